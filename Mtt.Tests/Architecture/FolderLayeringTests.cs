using System.Reflection;
using Mtt.Core.Listening;

namespace Mtt.Tests.Architecture;

/// <summary>
/// Mtt.Core's folders are floors (docs/architecture.md): a folder may use the floors below it and never one
/// above, so no change can bring back a cycle. Read from the compiled assembly, method bodies included, so a
/// fully qualified name or a type used only inside a lambda or an async method counts as well as a using.
/// </summary>
public sealed class FolderLayeringTests
{
    // Top to bottom. A folder may use itself and any folder after it in this list.
    private static readonly string[] Floors =
    [
        "Listening",
        // The shared table (-redis): it implements the controller's IUserTable and feeds the route store, so it sits
        // on top of Control and below nothing but the listener, which never uses it.
        "Cluster",
        "Control",
        "Upgrade",
        "Mux",
        "Relay",
        "WebSockets",
        "Diagnostics",
        "Routing",
        // Below Routing (a user's record carries its limits), above nothing: limits know no transport or protocol.
        "Limits",
        "Http",
        "ClientAddress",
        "Transport",
    ];

    [Fact]
    public void NoFolderUsesAFolderAboveIt()
    {
        var assembly = typeof(TunnelListener).Assembly;
        var dependencies = AssemblyDependencies.ByFolder(assembly, "Mtt.Core");
        var violations = new List<string>();
        foreach (var (from, targets) in dependencies)
        {
            int fromRank = RankOf(from);
            foreach (var (to, witness) in targets)
            {
                if (to != from && RankOf(to) < fromRank) violations.Add($"{from} uses {to} ({witness})");
            }
        }
        Assert.True(violations.Count == 0, "folders that use a floor above them:\n" + string.Join("\n", violations.Order()));
    }

    [Fact]
    public void EveryFolderIsAFloor()
    {
        var folders = typeof(TunnelListener).Assembly.GetTypes()
            .Select(t => AssemblyDependencies.FolderOf(t, "Mtt.Core"))
            .OfType<string>()
            .Distinct();
        Assert.All(folders, folder => Assert.Contains(folder, Floors));
    }

    [Fact]
    public void TheScanSeesUsesInsideMethodBodies()
    {
        // The check above is only as good as the scan: a use that appears only in an async method's body
        // (Listening's connection handing a socket to Transport) must be found.
        var dependencies = AssemblyDependencies.ByFolder(typeof(TunnelListener).Assembly, "Mtt.Core");
        Assert.Contains("Transport", dependencies["Listening"].Keys);
        Assert.Contains("WebSockets", dependencies["Mux"].Keys);
    }

    private static int RankOf(string folder)
    {
        int rank = Array.IndexOf(Floors, folder);
        Assert.True(rank >= 0, $"the folder {folder} is not in the floor list; add it where it belongs");
        return rank;
    }
}
