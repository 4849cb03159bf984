namespace Mtt.Benchmarks.Load;

/// <summary>A separate process that relays client connections to the harness's echo backend: the server under test or a floor relay.</summary>
internal interface IEchoTarget : IAsyncDisposable
{
    /// <summary>"tunnel" or "relay", then "TLS" or "plain".</summary>
    string Label { get; }

    string Kind { get; }

    bool Tls { get; }

    ChildProcess Process { get; }

    Task<EchoChannel> OpenAsync(CancellationToken cancellationToken);
}
