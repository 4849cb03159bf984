using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Mtt.Tests.Support;

namespace Mtt.Tests.Hardening;

/// <summary>
/// A stream that has ended both ways gives its place among the 16 back at once, before its FIN is
/// written. A client that never reads could then end streams whose FIN can never be written, one
/// after another, each still holding a backend connection and a frame buffer: the server keeps at most
/// as many of those as it has places, then stops reading the client.
/// </summary>
public sealed class SmuxEndedStreamsAttackTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>A write or a dial pending this long on loopback means the other side stopped.</summary>
    private static readonly TimeSpan Blocked = TimeSpan.FromSeconds(3);

    private const int MaxStreams = 16;

    /// <summary>
    /// The first connection floods the client (through the server) until the client's connection is
    /// full; every later one closes as soon as its input ends and is reported.
    /// </summary>
    private sealed class Backend : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly List<Socket> _sockets = [];
        private readonly Task _acceptLoop;

        public Backend()
        {
            _listener.Start();
            _acceptLoop = AcceptLoopAsync();
        }

        public string Address => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

        /// <summary>Completes once a write of the flood has stayed pending: nothing more gets through to the client.</summary>
        public TaskCompletionSource Congested { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Channel<int> Ended { get; } = Channel.CreateUnbounded<int>();

        private async Task AcceptLoopAsync()
        {
            int accepted = 0;
            try
            {
                while (true)
                {
                    var socket = await _listener.AcceptSocketAsync(_stop.Token);
                    lock (_sockets) _sockets.Add(socket);
                    _ = ++accepted == 1 ? FloodAsync(socket) : CloseAtEndOfInputAsync(socket, accepted);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }

        private async Task FloodAsync(Socket socket)
        {
            var chunk = new byte[64 * 1024];
            try
            {
                while (true)
                {
                    var sending = socket.SendAsync(chunk, SocketFlags.None, _stop.Token).AsTask();
                    if (await Task.WhenAny(sending, Task.Delay(Blocked)) != sending) Congested.TrySetResult();
                    await sending;
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }

        private async Task CloseAtEndOfInputAsync(Socket socket, int number)
        {
            var buffer = new byte[1024];
            try
            {
                while (await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token) > 0)
                {
                }
                socket.Shutdown(SocketShutdown.Send);
                Ended.Writer.TryWrite(number);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            _stop.Cancel();
            _listener.Stop();
            await _acceptLoop;
            lock (_sockets)
            {
                foreach (var socket in _sockets) socket.Dispose();
            }
            _stop.Dispose();
        }
    }

    [Fact]
    public async Task ClientThatNeverReads_EndingStreamsOneByOne_IsStoppedOnceTheEndedOnesFillTheirRoom()
    {
        await using var backend = new Backend();
        await using var server = TestServer.StartWithUser("/m", backend.Address);
        await using var client = await RawWebSocketClient.ConnectAsync(server.Port).WaitAsync(Bound);
        var (status, head) = await client.UpgradeAsync("/m", "smux_on").WaitAsync(Bound);
        Assert.True(status == 101, head);

        // Stream 3 fills the client's connection, which the client never reads.
        await client.SendBinaryAsync(Frame(SmuxTestClient.Syn, 3)).WaitAsync(Bound);
        await backend.Congested.Task.WaitAsync(TimeSpan.FromMinutes(1));

        // Then streams open and end one at a time: each one's backend ends, so the server sends its FIN,
        // which waits behind the flood for ever. None of them holds a place, so none is refused.
        const int Attempts = 10 * MaxStreams;
        int ended = 0;
        bool stopped = false;
        for (uint id = 5; ended < Attempts; id += 2)
        {
            await client.SendBinaryAsync((byte[])[.. Frame(SmuxTestClient.Syn, id), .. Frame(SmuxTestClient.Fin, id)]).WaitAsync(Bound);
            var next = backend.Ended.Reader.ReadAsync().AsTask();
            if (await Task.WhenAny(next, Task.Delay(Blocked)) != next)
            {
                stopped = true;
                break;
            }
            ended++;
        }

        // Stream 3 is open; the ended ones fill the rest of twice the limit, and no more backend is dialled.
        Assert.True(stopped, $"the server dialled {Attempts} backends for streams whose FIN it could not send");
        Assert.Equal(2 * MaxStreams - 1, ended);
    }

    private static byte[] Frame(byte command, uint id)
    {
        var frame = new byte[SmuxTestClient.HeaderSize];
        SmuxTestClient.WriteHeader(frame, 1, command, 0, id);
        return frame;
    }
}
