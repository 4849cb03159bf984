using Mtt.Core.Routing;

namespace Mtt.Core.Control.Commands;

/// <summary>The in-process user table (and <c>-state</c>, through the store's save hook): every command is answered here.</summary>
public sealed class LocalUserTable(RouteStore routes) : IUserTable
{
    public RouteStore Routes { get; } = routes;

    public RouteTable Current => Routes.Current;

    public ValueTask<CommandOutcome> ChangeAsync(UserChange change) => ValueTask.FromResult(CommandProcessor.Apply(change, Routes));

    public ValueTask<CommandOutcome> ListAsync(int entryCount) => ValueTask.FromResult(UserListing.List(Routes.Current, entryCount, Routes.Time));

    public ValueTask<CommandOutcome> TrafficAsync(bool reset, int entryCount) =>
        ValueTask.FromResult(UserListing.Traffic(Routes.Current, reset, entryCount));

    public ValueTask<CommandOutcome> NodesAsync(int entryCount) =>
        ValueTask.FromResult(CommandProcessor.Refused(CommandProcessor.OptNodes, entryCount,
            "opt 6 lists the instances sharing one table: this one runs alone (start it with -redis)", null));
}
