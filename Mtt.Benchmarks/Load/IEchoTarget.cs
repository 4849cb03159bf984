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
    Task<List<EchoChannel>> OpenChannelsAsync(int tunnels, CancellationToken cancellationToken) => OpenEachAsync(this, tunnels, cancellationToken);

    /// <summary>One channel per connection, <paramref name="tunnels"/> of them from <paramref name="target"/>; all closed again if one fails.</summary>
    static async Task<List<EchoChannel>> OpenEachAsync(IEchoTarget target, int tunnels, CancellationToken cancellationToken)
    {
        var channels = new List<EchoChannel>(tunnels);
        try
        {
            for (int i = 0; i < tunnels; i++) channels.Add(await target.OpenAsync(cancellationToken).ConfigureAwait(false));
            return channels;
        }
        catch
        {
            foreach (var channel in channels) await channel.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
