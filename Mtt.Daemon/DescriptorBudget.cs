using System.Globalization;

namespace Mtt.Daemon;

/// <summary>
/// How many tunnels the process's open-file limit can carry. Running out of descriptors is not
/// survivable: the .NET runtime itself fails fast ("Out of memory.", SIGABRT) when it cannot get one,
/// so the connection limit is kept below what the descriptors allow instead.
/// </summary>
internal static class DescriptorBudget
{
    // The runtime, its assemblies, the listeners, the controller's connections (64 at most) and a margin.
    public const int Reserved = 128;

    // A tunnel holds the client's socket and its backend's (a smux session one more per stream, which the
    // margin absorbs for a few sessions; beyond that the operator raises LimitNOFILE).
    public const int DescriptorsPerTunnel = 2;

    /// <summary>The connection limit the descriptors allow, or null when the limit cannot be read (not Linux).</summary>
    public static int? MaxConnections(string limitsFile = "/proc/self/limits")
    {
        long? soft = ReadSoftLimit(limitsFile);
        if (soft is null) return null;
        long budget = (soft.Value - Reserved) / DescriptorsPerTunnel;
        return (int)Math.Clamp(budget, 1, int.MaxValue);
    }

    private static long? ReadSoftLimit(string limitsFile)
    {
        try
        {
            foreach (var line in File.ReadLines(limitsFile))
            {
                if (!line.StartsWith("Max open files", StringComparison.Ordinal)) continue;
                var parts = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length > 0 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long soft)) return soft;
                return null; // "unlimited"
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return null;
    }
}
