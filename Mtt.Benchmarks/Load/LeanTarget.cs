namespace Mtt.Benchmarks.Load;

/// <summary>
/// A process under test as `churn` and `latency` reach it: connections through the harness's lean clients
/// (<see cref="LeanTunnelChannel"/>, <see cref="LeanSmuxChannel"/>, or a bare/TLS stream to a floor relay).
/// Kind is "tunnel" or "relay"; SmuxVersion is 0 but for smux sessions.
/// </summary>
internal sealed record LeanTarget(string Label, string Kind, bool Tls, int SmuxVersion, ChildProcess Process, Func<CancellationToken, Task<EchoChannel>> Open)
{
    public static LeanTarget Tunnel(TunnelServerTarget server) =>
        new($"tunnel {TlsLabel(server.Tls)}", "tunnel", server.Tls, 0, server.Process, token => LeanTunnelChannel.ConnectAsync(server.TunnelPort, server.Tls, token));

    public static LeanTarget Smux(TunnelServerTarget server, byte version) =>
        new($"tunnel {TlsLabel(server.Tls)} smux v{version}", "tunnel", server.Tls, version, server.Process, token => LeanSmuxChannel.ConnectAsync(server.TunnelPort, server.Tls, version, token));

    public static LeanTarget Floor(IEchoTarget relay) =>
        new(relay.Label, relay.Kind, relay.Tls, 0, relay.Process, relay.OpenAsync);

    /// <summary>The Go anchor's tunnel server, reached by the same lean clients as mtt-mu-server; smux when <paramref name="smuxVersion"/> is not 0.</summary>
    public static LeanTarget Go(GoAnchorTarget anchor, byte smuxVersion) => smuxVersion == 0
        ? new(anchor.Label, anchor.Kind, anchor.Tls, 0, anchor.Process, token => LeanTunnelChannel.ConnectAsync(anchor.Port, anchor.Tls, token))
        : new(anchor.Label, anchor.Kind, anchor.Tls, smuxVersion, anchor.Process, token => LeanSmuxChannel.ConnectAsync(anchor.Port, anchor.Tls, smuxVersion, token));

    private static string TlsLabel(bool tls) => tls ? "TLS" : "plain";
}
