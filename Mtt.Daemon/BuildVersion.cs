using System.Reflection;

namespace Mtt.Daemon;

/// <summary>
/// What <c>-version</c> prints: the version and the commit it was built from. The SDK writes both into the
/// assembly's informational version as <c>VERSION+COMMIT</c> (SourceRevisionId, which Source Link fills from git;
/// build.ps1 package passes the version and the commit explicitly).
/// </summary>
public static class BuildVersion
{
    public static string InformationalVersion { get; } =
        typeof(BuildVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>The version without the commit, e.g. <c>1.0.0</c>.</summary>
    public static string Version => InformationalVersion.Split('+')[0];

    /// <summary>The commit the binary was built from, or <c>unknown</c> when it was built outside git.</summary>
    public static string Commit => InformationalVersion.Split('+') is [_, var commit, ..] && commit.Length > 0 ? commit : "unknown";

    /// <summary>One line: <c>mtt-mu-server 1.0.0 (commit 0123abcd...)</c>.</summary>
    public static string Text => $"{CommandLine.ProgramName} {Version} (commit {Commit})";
}
