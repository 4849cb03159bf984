namespace Mtt.Benchmarks.Load;

/// <summary>
/// The harness's clients of one WebSocket tunnel server (mtt-mu-server or the Go anchor): smux_off tunnels, or
/// smux_on sessions of --streams streams, all with the .NET clients, so both servers meet the same client.
/// </summary>
internal sealed class TunnelClients : IDisposable
{
    // An idle client holds little: ClientWebSocket's buffers are not what is measured, the server's memory is.
    private const int IdleClientBufferSize = 4096;

    private readonly HttpMessageInvoker _invoker;
    private readonly Uri _uri;
    private readonly int _clientBufferSize;
    private readonly byte _smuxVersion;
    private readonly int _streamsPerSession;

    public TunnelClients(Uri uri, int clientBufferSize, LoadOptions options)
    {
        _uri = uri;
        _clientBufferSize = clientBufferSize;
        _smuxVersion = options.Smux ? options.SmuxVersion : (byte)0;
        _streamsPerSession = options.Streams;
        _invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            // The servers' certificates are self-signed and made at their start: accept any.
            SslOptions = { RemoteCertificateValidationCallback = static (_, _, _, _) => true },
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        });
    }

    public bool Smux => _smuxVersion != 0;

    /// <summary>0 for smux_off tunnels.</summary>
    public byte SmuxVersion => _smuxVersion;

    /// <summary>A tunnel, or with smux a session carrying one stream (which ends the session when closed).</summary>
    public async Task<EchoChannel> OpenAsync(CancellationToken cancellationToken)
    {
        if (!Smux) return await WebSocketEchoChannel.ConnectAsync(_uri, _invoker, _clientBufferSize, keepAlive: true, cancellationToken).ConfigureAwait(false);
        var session = await SmuxClientSession.ConnectAsync(_uri, _invoker, _smuxVersion, _clientBufferSize, SmuxClientSession.BulkReadBufferSize, cancellationToken).ConfigureAwait(false);
        return await OpenStreamOrDisposeAsync(session, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One channel per tunnel; with smux, <paramref name="tunnels"/> sessions of --streams streams each, all SYNs sent.</summary>
    public async Task<List<EchoChannel>> OpenChannelsAsync(int tunnels, CancellationToken cancellationToken)
    {
        var channels = new List<EchoChannel>(tunnels * _streamsPerSession);
        try
        {
            for (int i = 0; i < tunnels; i++)
            {
                if (!Smux)
                {
                    channels.Add(await OpenAsync(cancellationToken).ConfigureAwait(false));
                    continue;
                }
                var session = await SmuxClientSession.ConnectAsync(_uri, _invoker, _smuxVersion, _clientBufferSize, SmuxClientSession.BulkReadBufferSize, cancellationToken).ConfigureAwait(false);
                channels.Add(await OpenStreamOrDisposeAsync(session, cancellationToken).ConfigureAwait(false));
                for (int s = 1; s < _streamsPerSession; s++) channels.Add(await session.OpenStreamAsync(cancellationToken).ConfigureAwait(false));
            }
            return channels;
        }
        catch
        {
            foreach (var channel in channels) await channel.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>An idle tunnel (no keep-alive pings, a small client buffer), or with smux an idle session with one stream open.</summary>
    public async Task<EchoChannel> OpenIdleAsync(CancellationToken cancellationToken)
    {
        if (!Smux) return await WebSocketEchoChannel.ConnectAsync(_uri, _invoker, IdleClientBufferSize, keepAlive: false, cancellationToken).ConfigureAwait(false);
        var session = await SmuxClientSession.ConnectAsync(_uri, _invoker, _smuxVersion, IdleClientBufferSize, SmuxClientSession.IdleReadBufferSize, cancellationToken).ConfigureAwait(false);
        return await OpenStreamOrDisposeAsync(session, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<SmuxClientStream> OpenStreamOrDisposeAsync(SmuxClientSession session, CancellationToken cancellationToken)
    {
        try
        {
            return await session.OpenStreamAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public void Dispose() => _invoker.Dispose();
}
