using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Mtt.Tests.Control;

/// <summary>A raw TCP client for what HttpClient will not send: malformed heads, chunked framing, stalls, pipelining.</summary>
internal sealed class RawHttpConnection : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly List<byte> _pending = [];

    private RawHttpConnection(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    public static async Task<RawHttpConnection> OpenAsync(IPEndPoint endPoint)
    {
        var client = new TcpClient(AddressFamily.InterNetwork);
        await client.ConnectAsync(endPoint).WaitAsync(RunningController.Bound);
        return new RawHttpConnection(client);
    }

    public Task SendAsync(string ascii) => SendAsync(Encoding.ASCII.GetBytes(ascii));

    public async Task SendAsync(byte[] bytes)
    {
        using var cts = new CancellationTokenSource(RunningController.Bound);
        await _stream.WriteAsync(bytes, cts.Token);
    }

    /// <summary>Reads one response (head and Content-Length body); bytes after it stay for the next call.</summary>
    public async Task<RawResponse> ReadResponseAsync()
    {
        int headEnd;
        while ((headEnd = IndexOfHeadEnd()) < 0)
        {
            if (!await ReadMoreAsync()) throw new IOException("connection closed before a response head");
        }
        string head = Encoding.ASCII.GetString(_pending.GetRange(0, headEnd).ToArray());
        _pending.RemoveRange(0, headEnd + 4);
        var response = new RawResponse(head, "");
        int length = int.Parse(response.Header("Content-Length") ?? "0");
        while (_pending.Count < length)
        {
            if (!await ReadMoreAsync()) throw new IOException("connection closed before the response body");
        }
        string body = Encoding.UTF8.GetString(_pending.GetRange(0, length).ToArray());
        _pending.RemoveRange(0, length);
        return response with { Body = body };
    }

    /// <summary>True when the server closes (or resets) the connection with nothing more to read.</summary>
    public async Task<bool> IsClosedByServerAsync()
    {
        try
        {
            return !await ReadMoreAsync() && _pending.Count == 0;
        }
        catch (IOException)
        {
            return _pending.Count == 0;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _client.Dispose();
    }

    private async Task<bool> ReadMoreAsync()
    {
        byte[] buffer = new byte[16 * 1024];
        using var cts = new CancellationTokenSource(RunningController.Bound);
        int read = await _stream.ReadAsync(buffer, cts.Token);
        _pending.AddRange(buffer.AsSpan(0, read));
        return read > 0;
    }

    private int IndexOfHeadEnd()
    {
        for (int i = 0; i + 3 < _pending.Count; i++)
        {
            if (_pending[i] == '\r' && _pending[i + 1] == '\n' && _pending[i + 2] == '\r' && _pending[i + 3] == '\n') return i;
        }
        return -1;
    }
}
