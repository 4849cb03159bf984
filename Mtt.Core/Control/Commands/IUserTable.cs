using Mtt.Core.Routing;

namespace Mtt.Core.Control.Commands;

/// <summary>
/// Where the controller's commands go once they are checked: the in-process table (<see cref="LocalUserTable"/>,
/// the default) or a table shared by several instances (<c>Mtt.Core.Cluster</c>, with <c>-redis</c>). Either way the
/// tunnels route from <see cref="Current"/>, this instance's snapshot.
/// </summary>
public interface IUserTable
{
    /// <summary>The table this instance serves from now.</summary>
    RouteTable Current { get; }

    /// <summary>opt 1, 2, 3: applies the change whole or not at all; <c>res: 1</c> only once it is applied where it is kept.</summary>
    ValueTask<CommandOutcome> ChangeAsync(UserChange change);

    /// <summary>opt 4: the users and their counters.</summary>
    ValueTask<CommandOutcome> ListAsync(int entryCount);

    /// <summary>opt 5: bytes since the last reset, read and reset in one step when <paramref name="reset"/>.</summary>
    ValueTask<CommandOutcome> TrafficAsync(bool reset, int entryCount);

    /// <summary>opt 6: the instances that share the table.</summary>
    ValueTask<CommandOutcome> NodesAsync(int entryCount);
}
