using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Mtt.Tests.Interop;

/// <summary>
/// A loopback HTTP/1.1 server just big enough for the browser test: GET serves the files it was given
/// (anything else is a 404), POST /result hands its body to <see cref="Result"/>. One request per
/// connection (Connection: close), every read bounded in size and time.
/// </summary>
public sealed class PageHost : IAsyncDisposable
{
    private const int MaxHeadBytes = 16 * 1024;          // Chromium's heads are well under 2 KiB
    private const int MaxBodyBytes = 1024 * 1024;        // the result is a small JSON object
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly IReadOnlyDictionary<string, (string ContentType, byte[] Body)> _files;
    private readonly TaskCompletionSource<string> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _requests = [];
    private readonly Task _acceptLoop;

    /// <param name="files">URL path (e.g. "/echo-page.html") to the file served there.</param>
    public PageHost(IReadOnlyDictionary<string, string> files)
    {
        _files = files.ToDictionary(file => file.Key, file => (ContentTypeOf(file.Value), File.ReadAllBytes(file.Value)));
        _listener.Start();
        _acceptLoop = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>The body of the first POST /result.</summary>
    public Task<string> Result => _result.Task;

    /// <summary>The request lines seen so far, for failure messages.</summary>
    public string Requests
    {
        get { lock (_requests) return string.Join("; ", _requests); }
    }

    public Uri UriFor(string pathAndQuery) => new($"http://127.0.0.1:{Port}{pathAndQuery}");

    private static string ContentTypeOf(string file) => Path.GetExtension(file) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".mjs" or ".js" => "text/javascript; charset=utf-8", // module scripts need a JavaScript MIME type
        _ => "application/octet-stream",
    };

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _ = ServeAsync(client);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Disposed.
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
        {
            timeout.CancelAfter(RequestTimeout);
            try
            {
                var stream = client.GetStream();
                var (head, body) = await ReadRequestAsync(stream, timeout.Token);
                string requestLine = head[..head.IndexOf("\r\n", StringComparison.Ordinal)];
                lock (_requests) _requests.Add(requestLine);
                string[] parts = requestLine.Split(' ');
                string path = parts[1].Split('?')[0];
                if (parts[0] == "POST" && path == "/result")
                {
                    _result.TrySetResult(Encoding.UTF8.GetString(body));
                    await RespondAsync(stream, "204 No Content", "text/plain", [], timeout.Token);
                }
                else if (parts[0] == "GET" && _files.TryGetValue(path, out var file))
                {
                    await RespondAsync(stream, "200 OK", file.ContentType, file.Body, timeout.Token);
                }
                else
                {
                    await RespondAsync(stream, "404 Not Found", "text/plain", "not found"u8.ToArray(), timeout.Token);
                }
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or InvalidDataException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
            {
                // A dropped, slow or malformed request: nothing to serve.
            }
        }
    }

    private static async Task<(string Head, byte[] Body)> ReadRequestAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int headEnd;
        while ((headEnd = IndexOfHeadEnd(buffer)) < 0)
        {
            if (buffer.Length > MaxHeadBytes) throw new InvalidDataException("request head too large");
            int n = await stream.ReadAsync(chunk, cancellationToken);
            if (n == 0) throw new IOException("connection closed in the request head");
            buffer.Write(chunk, 0, n);
        }
        byte[] all = buffer.ToArray();
        string head = Encoding.Latin1.GetString(all, 0, headEnd);
        int length = 0;
        foreach (var line in head.Split("\r\n"))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) length = int.Parse(line["Content-Length:".Length..].Trim());
        }
        if (length is < 0 or > MaxBodyBytes) throw new InvalidDataException("request body too large");
        var body = new byte[length];
        int have = Math.Min(length, all.Length - (headEnd + 4));
        Array.Copy(all, headEnd + 4, body, 0, have);
        await stream.ReadExactlyAsync(body.AsMemory(have), cancellationToken);
        return (head, body);
    }

    private static int IndexOfHeadEnd(MemoryStream buffer) =>
        buffer.GetBuffer().AsSpan(0, (int)buffer.Length).IndexOf("\r\n\r\n"u8);

    private static async Task RespondAsync(NetworkStream stream, string status, string contentType, byte[] body, CancellationToken cancellationToken)
    {
        string head = $"HTTP/1.1 {status}\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), cancellationToken);
        await stream.WriteAsync(body, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _acceptLoop;
        _stop.Dispose();
    }
}
