using Mtt.Core.Routing;
using Mtt.Core.Transport;

namespace Mtt.Core.Control.Commands;

/// <summary>The in-process user table (and <c>-state</c>, through the store's save hook): every command is answered here.</summary>
public sealed class LocalUserTable(RouteStore routes) : IUserTable
{
    // With a state file, changes wait here, asynchronously, for the one being saved: a slow disk then holds one pool
    // thread (in the fsync), not one per queued command blocked on the store's lock. Reads (opt 4, 5, 9) never wait.
    private readonly SemaphoreSlim _saving = new(1, 1);

    public RouteStore Routes { get; } = routes;

    public RouteTable Current => Routes.Current;

    /// <summary>Without a state file a change is CPU only and answered at once; with one, <c>res: 1</c> still means saved (docs/protocol.md §9).</summary>
    public ValueTask<CommandOutcome> ChangeAsync(UserChange change) =>
        Routes.Persists ? ApplySavedAsync(change) : ValueTask.FromResult(CommandProcessor.Apply(change, Routes));

    private async ValueTask<CommandOutcome> ApplySavedAsync(UserChange change)
    {
        await _saving.WaitAsync().ConfigureAwait(false);
        try
        {
            // The save's open, write, fsync and rename may wait for the disk: never on a socket engine's thread.
            await ThreadPoolHop.OffSocketThread;
            return CommandProcessor.Apply(change, Routes);
        }
        finally
        {
            _saving.Release();
        }
    }

    public ValueTask<CommandOutcome> ListAsync(int entryCount) => ValueTask.FromResult(UserListing.List(Routes.Current, entryCount, Routes.Time));

    public ValueTask<CommandOutcome> TrafficAsync(bool reset, int entryCount) =>
        ValueTask.FromResult(UserListing.Traffic(Routes.Current, reset, entryCount));

    public ValueTask<CommandOutcome> NodesAsync(int entryCount) =>
        ValueTask.FromResult(CommandProcessor.Refused(CommandProcessor.OptNodes, entryCount,
            "opt 6 lists the instances sharing one table: this one runs alone (start it with -redis)", null));
}
