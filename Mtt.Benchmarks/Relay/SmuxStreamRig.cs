using System.Buffers;
using System.Runtime.CompilerServices;
using Mtt.Core.Diagnostics;
using Mtt.Core.Mux;
using Mtt.Core.Routing;
using Mtt.Core.Transport;
using Mtt.Tests.Support;

namespace Mtt.Benchmarks.Relay;

/// <summary>
/// One stream of an smux_on session: the server's <see cref="SmuxSession"/> between an in-memory client
/// and an echo backend on loopback, dialled as the server does it. The client sends each message as one
/// PSH frame in one WebSocket message, as mtt-client does, and in version 2 announces what it consumed
/// as xtaci/smux does (a UPD every half window), so the server's window toward it never shuts.
/// </summary>
internal sealed class SmuxStreamRig : IRelayRig
{
    private const uint StreamId = 3;   // a client's first stream (xtaci/smux)
    private const int PeerWindow = 256 * 1024;
    private const int UpdateEvery = PeerWindow / 2;

    private static readonly TimeSpan DialTimeout = TimeSpan.FromSeconds(10);

    // No timer of the session may fire while it is measured.
    private static readonly SmuxSessionOptions Options = new()
    {
        KeepAliveInterval = TimeSpan.FromHours(1),
        KeepAliveTimeout = TimeSpan.FromHours(2),
        IdleTimeout = TimeSpan.FromHours(1),
    };

    private readonly byte _version;
    private readonly EchoBackend _backend;
    private readonly PipeWebSocketClient _client;
    private readonly CancellationTokenSource _stop;
    private readonly Task<SmuxSessionResult> _run;
    private readonly byte[] _data;
    private readonly byte[] _frame;
    private readonly byte[] _updatePayload = new byte[SmuxFrameHeader.Size + SmuxFrameHeader.UpdateDataLength];
    private readonly byte[] _updateFrame = new byte[MaskedClientFrame.MaxHeaderLength + SmuxFrameHeader.Size + SmuxFrameHeader.UpdateDataLength];
    private uint _consumed;
    private uint _consumedAnnounced;

    private SmuxStreamRig(int messageBytes, byte version, EchoBackend backend, PipeWebSocketClient client, CancellationTokenSource stop, Task<SmuxSessionResult> run)
    {
        MessageBytes = messageBytes;
        _version = version;
        _backend = backend;
        _client = client;
        _stop = stop;
        _run = run;
        _data = EchoedBytes.Pattern(messageBytes);
        var psh = new byte[SmuxFrameHeader.Size + messageBytes];
        new SmuxFrameHeader(version, SmuxCommand.Psh, checked((ushort)messageBytes), StreamId).Write(psh);
        _data.CopyTo(psh, SmuxFrameHeader.Size);
        _frame = MaskedClientFrame.Binary(psh);
    }

    public int MessageBytes { get; }

    public static async Task<SmuxStreamRig> StartAsync(int messageBytes, byte version)
    {
        var backend = new EchoBackend();
        var client = new PipeWebSocketClient();
        var meter = new TunnelMeter(new UserState(), new ServerMetrics());
        var address = new BackendAddress("127.0.0.1", backend.Port);
        var session = new SmuxSession(client.Server, token => BackendDialer.DialAsync(address, ReadOnlyMemory<byte>.Empty, DialTimeout, TimeProvider.System, token),
            Options, ServerLog.Silent, "rig client", address.ToString(), meter);
        var stop = new CancellationTokenSource();
        var rig = new SmuxStreamRig(messageBytes, version, backend, client, stop, session.RunAsync(stop.Token));

        var syn = new byte[SmuxFrameHeader.Size];
        new SmuxFrameHeader(version, SmuxCommand.Syn, 0, StreamId).Write(syn);
        await client.SendAsync(MaskedClientFrame.Binary(syn)).ConfigureAwait(false);
        return rig;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask EchoAsync(int messages)
    {
        for (int i = 0; i < messages; i++)
        {
            await _client.SendAsync(_frame).ConfigureAwait(false);
            int received = 0;
            while (received < _data.Length)
            {
                // Each server message is one whole smux frame (docs/protocol.md §4.4).
                var message = await _client.ReceiveMessageAsync().ConfigureAwait(false);
                var header = ReadHeader(message);
                if (header.Command is SmuxCommand.Upd or SmuxCommand.Nop) continue;
                if (header.Command != SmuxCommand.Psh || header.StreamId != StreamId)
                    throw new InvalidOperationException($"the server sent {header.Command} for stream {header.StreamId} in the middle of an echo");
                var data = message.Slice(SmuxFrameHeader.Size);
                EchoedBytes.Check(data, _data, received);
                received += (int)data.Length;
                _consumed += (uint)data.Length;
            }
            if (_version == SmuxFrameHeader.Version2 && _consumed - _consumedAnnounced >= UpdateEvery) await AnnounceAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        // As a server stopping: the session ends its stream, closes the backend and sends its close.
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _run.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        finally
        {
            _client.Complete();
            await _backend.DisposeAsync().ConfigureAwait(false);
            _stop.Dispose();
        }
    }

    private ValueTask AnnounceAsync()
    {
        _consumedAnnounced = _consumed;
        SmuxFrameHeader.WriteUpdate(_updatePayload, _version, StreamId, _consumed, PeerWindow);
        int length = MaskedClientFrame.Write(_updateFrame, _updatePayload);
        return _client.SendAsync(_updateFrame.AsMemory(0, length));
    }

    private static SmuxFrameHeader ReadHeader(ReadOnlySequence<byte> message)
    {
        if (message.Length < SmuxFrameHeader.Size) throw new InvalidOperationException($"a {message.Length}-byte message is no smux frame");
        Span<byte> header = stackalloc byte[SmuxFrameHeader.Size];
        message.Slice(0, SmuxFrameHeader.Size).CopyTo(header);
        return SmuxFrameHeader.Read(header);
    }
}
