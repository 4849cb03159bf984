using System.Globalization;
using Mtt.Tests.Support;

namespace Mtt.Benchmarks.Load;

/// <summary>The floor: this harness started again as `load relay-floor`, a bare or TLS-terminating TCP relay in its own process.</summary>
internal sealed class RelayFloorTarget : IEchoTarget
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly int _port;

    private readonly bool _openSsl;

    private RelayFloorTarget(ChildProcess process, bool tls, bool openSsl, int port)
    {
        Process = process;
        Tls = tls;
        _openSsl = openSsl;
        _port = port;
    }

    public string Label => $"relay {(!Tls ? "plain" : _openSsl ? "libssl" : "TLS")}";

    public string Kind => "relay";

    public bool Tls { get; }

    public ChildProcess Process { get; }

    /// <param name="openSsl">Terminate TLS on libssl called directly (the server's <c>-tls-engine openssl</c>) instead of SslStream.</param>
    public static async Task<RelayFloorTarget> StartAsync(bool tls, EchoBackend backend, bool openSsl = false)
    {
        List<string> arguments = [ServerLocator.HarnessAssembly, "load", RelayFloor.Mode, "--listen", "127.0.0.1:0", "--target", backend.Address];
        if (tls) arguments.Add("--tls");
        if (tls && openSsl) arguments.Add("--openssl");
        // The daemon runs with non-concurrent workstation GC (its runtimeconfig); the floor gets the same.
        var environment = new Dictionary<string, string> { ["DOTNET_gcConcurrent"] = "0", ["DOTNET_gcServer"] = "0" };
        var process = ChildProcess.Start($"relay-floor{(tls ? " --tls" : "")}{(tls && openSsl ? " --openssl" : "")}", "dotnet", arguments, environment);
        try
        {
            string line = await process.WaitForLineAsync(l => l.StartsWith(RelayFloor.ReadyLine, StringComparison.Ordinal), StartTimeout).ConfigureAwait(false);
            int port = int.Parse(line.AsSpan(line.LastIndexOf(':') + 1), CultureInfo.InvariantCulture);
            return new RelayFloorTarget(process, tls, tls && openSsl, port);
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async Task<EchoChannel> OpenAsync(CancellationToken cancellationToken) =>
        await StreamEchoChannel.ConnectAsync(_port, Tls, cancellationToken).ConfigureAwait(false);

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
