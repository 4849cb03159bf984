using System.Net;
using System.Net.Sockets;

namespace Mtt.Tests.Support;

/// <summary>
/// A backend that sends its download to the first connection as soon as it is accepted, then holds it open until
/// disposed: the server's backend-to-client direction alone, as a user's download server would load it.
/// </summary>
public sealed class DownloadBackend : IAsyncDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;

    public DownloadBackend(byte[] download)
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen();
        _serving = Task.Run(async () =>
        {
            using var accepted = await _listener.AcceptAsync(_stop.Token);
            await accepted.SendAsync(download, SocketFlags.None, _stop.Token);
            await accepted.ReceiveAsync(new byte[1], SocketFlags.None, _stop.Token);
        });
    }

    public string Address => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndPoint!).Port}";

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try
        {
            await _serving.WaitAsync(Bound);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException)
        {
            // Stopped, or the server dropped the connection first: either way the download is over.
        }
        _listener.Dispose();
        _stop.Dispose();
    }
}
