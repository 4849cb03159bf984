namespace Mtt.Tests.Interop;

/// <summary>
/// Where the independent clients live: the scripts stay in the source tree (Mtt.Tests/Interop), next to the
/// node_modules that `npm ci` installed there, so the tests find them by walking up from the test binaries.
/// A missing tool is a failure that says how to install it, never a skip.
/// </summary>
public static class InteropAssets
{
    public const string InstallHint = "run .ci/install-test-prerequisites.sh (as root or with sudo)";

    private static readonly Lazy<string> Root = new(FindInteropDirectory);

    /// <summary>Mtt.Tests/Interop/node: package.json, the lock file, echo-client.mjs and echo-session.mjs.</summary>
    public static string NodeDirectory => Path.Combine(Root.Value, "node");

    /// <summary>Mtt.Tests/Interop/browser: the page Chromium runs.</summary>
    public static string BrowserDirectory => Path.Combine(Root.Value, "browser");

    /// <summary>The node executable, with the pinned ws package installed; fails the test otherwise.</summary>
    public static string RequireNodeWithWs()
    {
        string? node = FindOnPath("node");
        Assert.True(node is not null, $"node is not installed: {InstallHint} (it installs Debian's nodejs and npm when missing)");
        Assert.True(File.Exists(Path.Combine(NodeDirectory, "node_modules", "ws", "package.json")),
            $"the ws package is not installed in {NodeDirectory}: {InstallHint} (it runs npm ci there)");
        return node!;
    }

    /// <summary>Debian's chromium; fails the test when it is not installed.</summary>
    public static string RequireChromium()
    {
        const string chromium = "/usr/bin/chromium";
        Assert.True(File.Exists(chromium), $"{chromium} is not installed: {InstallHint} (apt-get install chromium)");
        Assert.True(FindOnPath("setsid") is not null, "setsid (util-linux) is not installed: it runs Chromium in its own process group");
        return chromium;
    }

    public static string? FindOnPath(string name)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
        {
            string candidate = Path.Combine(directory, name);
            if (directory.Length > 0 && File.Exists(candidate)) return candidate;
        }
        return null;
    }

    private static string FindInteropDirectory()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "Mtt.Tests", "Interop");
            if (Directory.Exists(Path.Combine(candidate, "node"))) return candidate;
        }
        throw new DirectoryNotFoundException($"Mtt.Tests/Interop not found above {AppContext.BaseDirectory}: the interop tests run from a source checkout");
    }
}
