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

    /// <summary>The channels of <paramref name="tunnels"/> connections: one each, or a session's streams each with smux.</summary>
    async Task<List<EchoChannel>> OpenChannelsAsync(int tunnels, CancellationToken cancellationToken)
    {
        var channels = new List<EchoChannel>(tunnels);
        try
        {
            for (int i = 0; i < tunnels; i++) channels.Add(await OpenAsync(cancellationToken).ConfigureAwait(false));
            return channels;
        }
        catch
        {
            foreach (var channel in channels) await channel.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
