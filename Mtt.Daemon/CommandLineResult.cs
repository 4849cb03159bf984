namespace Mtt.Daemon;

/// <summary>What <see cref="CommandLine.Parse"/> tells Program to do: run with <see cref="Options"/>, or print and exit.</summary>
public sealed class CommandLineResult
{
    /// <summary>Exit code for a command-line error, as Go's <c>flag</c> package uses.</summary>
    public const int UsageErrorExitCode = 2;

    /// <summary>Set when the server should start; then <see cref="ExitCode"/> is 0 and nothing is to be printed.</summary>
    public ServerOptions? Options { get; init; }

    /// <summary>The exit code when <see cref="Options"/> is null: 0 after help, 2 after an error.</summary>
    public int ExitCode { get; init; }

    /// <summary>The usage text asked for with <c>-h</c>, for stdout.</summary>
    public string? Output { get; init; }

    /// <summary>A one-line message naming the flag, then the usage text, for stderr.</summary>
    public string? Error { get; init; }
}
