using System.Net.Sockets;
using System.Text;

namespace Mtt.Tests.Support;

/// <summary>
/// Plays systemd's side of sd_notify: a Unix datagram socket the test owns (a file in a temporary directory, or an
/// abstract name), collecting every <c>KEY=value</c> line the server sends, in order.
/// </summary>
public sealed class FakeNotifySocket : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly List<string> _lines = [];
    private readonly List<(string Prefix, TaskCompletionSource<string> Seen)> _waiters = [];
    private readonly TemporaryDirectory? _directory;
    private readonly Task _receiving;

    private FakeNotifySocket(string name, string bindAddress, TemporaryDirectory? directory, bool receive = true)
    {
        Name = name;
        _directory = directory;
        _socket.Bind(new UnixDomainSocketEndPoint(bindAddress));
        _receiving = receive ? ReceiveAsync() : Task.CompletedTask;
    }

    /// <summary>
    /// A socket file, as systemd's <c>/run/systemd/notify</c>. With <paramref name="receive"/> false nothing reads it
    /// until <see cref="ReadQueued"/>, so a test can tell for sure that nothing was sent (a send is queued at once).
    /// </summary>
    public static FakeNotifySocket AtPath(bool receive = true)
    {
        var directory = new TemporaryDirectory();
        string path = directory.File("notify");
        return new FakeNotifySocket(path, path, directory, receive);
    }

    /// <summary>The next datagram's lines (only without the receive loop).</summary>
    public async Task<IReadOnlyList<string>> ReceiveNextAsync()
    {
        var buffer = new byte[4096];
        int received = await _socket.ReceiveAsync(buffer, SocketFlags.None);
        return Encoding.UTF8.GetString(buffer, 0, received).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>Reads every datagram queued now, without waiting (only without the receive loop), and returns their lines.</summary>
    public IReadOnlyList<string> ReadQueued()
    {
        var lines = new List<string>();
        var buffer = new byte[4096];
        while (_socket.Available > 0)
        {
            int received = _socket.Receive(buffer);
            lines.AddRange(Encoding.UTF8.GetString(buffer, 0, received).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        return lines;
    }

    /// <summary>An abstract socket, named in <c>NOTIFY_SOCKET</c> with a leading <c>@</c>.</summary>
    public static FakeNotifySocket Abstract()
    {
        string name = $"mtt-test-notify-{Guid.NewGuid():N}";
        return new FakeNotifySocket("@" + name, "\0" + name, null);
    }

    /// <summary>What <c>NOTIFY_SOCKET</c> is set to.</summary>
    public string Name { get; }

    /// <summary>Every line received so far, in order.</summary>
    public IReadOnlyList<string> Lines
    {
        get { lock (_lines) return [.. _lines]; }
    }

    /// <summary>Completes with the first line starting with <paramref name="prefix"/> that arrives after <paramref name="afterLine"/> lines.</summary>
    public Task<string> WaitForAsync(string prefix, int afterLine = 0)
    {
        lock (_lines)
        {
            for (int i = afterLine; i < _lines.Count; i++)
            {
                if (_lines[i].StartsWith(prefix, StringComparison.Ordinal)) return Task.FromResult(_lines[i]);
            }
            var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((prefix, seen));
            return seen.Task;
        }
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[4096];
        while (true)
        {
            int received;
            try
            {
                received = await _socket.ReceiveAsync(buffer, SocketFlags.None);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }
            lock (_lines)
            {
                foreach (string line in Encoding.UTF8.GetString(buffer, 0, received).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    _lines.Add(line);
                    for (int i = _waiters.Count - 1; i >= 0; i--)
                    {
                        if (!line.StartsWith(_waiters[i].Prefix, StringComparison.Ordinal)) continue;
                        _waiters[i].Seen.TrySetResult(line);
                        _waiters.RemoveAt(i);
                    }
                }
            }
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        _receiving.Wait(TimeSpan.FromSeconds(5));
        _directory?.Dispose();
    }
}
