using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Mtt.Core.Control.Commands;
using Mtt.Core.Diagnostics;
using Mtt.Core.Routing;
using Mtt.Core.Transport;

namespace Mtt.Core.Control.Http;

/// <summary>
/// One controller client: reads requests one after another on the connection (keep-alive), runs each
/// command and answers. Every HTTP-level failure is answered (when anything can still be sent) and ends
/// the connection; a command's own refusal is a <c>res:2</c> with HTTP 200 and the connection goes on.
/// </summary>
internal sealed class ControllerConnection
{
    // Each socket read asks for this much, so a 2 MiB body arrives in a few dozen reads.
    private const int ReadBufferBytes = 64 * 1024;

    // After a refusal the rest of the request is read and dropped until the client closes, so that it
    // reads the answer instead of a reset; bounded so that a refused client cannot keep its slot.
    private static readonly TimeSpan LingerTime = TimeSpan.FromSeconds(1);

    // A 408 goes to a client that has shown it is slow: it gets this long to take the answer.
    private static readonly TimeSpan TimeoutNoticeTime = TimeSpan.FromSeconds(1);

    private const string DrainingReason = "draining: the server is stopping and takes no new tunnels";

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly PipeReader _reader;
    private readonly ControllerRequestReader _requests;
    private readonly Action _onRequestStarted;
    private readonly IUserTable _table;
    private readonly ILogger _log;
    private readonly ControllerLimits _limits;
    private readonly ServerMetrics _metrics;
    private readonly PrometheusExposition _exposition;
    private readonly Func<bool> _isDraining;
    private readonly string _client;
    private readonly ControllerToken? _token;
    // Reset for each request and cancelled by _readTimer, which runs on the server's clock so that tests drive the read timeout.
    private readonly CancellationTokenSource _requestTimeout = new();
    private readonly ITimer _readTimer;
    private volatile bool _closing;
    private bool _requestStarted;
    private bool _responseStarted;

    /// <param name="exposition">renders <c>GET /metrics</c></param>
    /// <param name="isDraining">whether the server is draining, for <c>GET /healthz</c></param>
    public ControllerConnection(Socket socket, IUserTable table, ILogger log, ControllerLimits limits, ServerMetrics metrics,
        PrometheusExposition exposition, Func<bool> isDraining, TimeProvider time, ControllerToken? token = null)
    {
        _exposition = exposition;
        _isDraining = isDraining;
        _readTimer = time.CreateTimer(CancelRequest, _requestTimeout, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _token = token;
        _metrics = metrics;
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: ReadBufferBytes, leaveOpen: true));
        _table = table;
        _log = log;
        _limits = limits;
        _client = socket.RemoteEndPoint?.ToString() ?? "unknown client";
        _requests = new ControllerRequestReader(_reader, limits);
        _onRequestStarted = OnRequestStarted;
    }

    /// <summary>Serves requests until the client closes, a request fails, or <see cref="Close"/>; never throws.</summary>
    public async Task RunAsync()
    {
        try
        {
            while (!_closing && await ServeOneAsync()) { }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The client went away, or the server is shutting down: there is no one to answer.
            if (!_closing) ControllerLog.ConnectionEnded(_log, _client, ex.Message);
        }
        catch (Exception ex)
        {
            ControllerLog.ControllerConnectionFailed(_log, _client, ex);
        }
        finally
        {
            await _reader.CompleteAsync();
            _stream.Dispose();
            _readTimer.Dispose();
            _requestTimeout.Dispose();
        }
    }

    /// <summary>Closes the connection from outside (server shutdown); a pending read fails and the loop ends.</summary>
    public void Close()
    {
        _closing = true;
        _socket.Dispose();
    }

    private static void CancelRequest(object? source)
    {
        // A callback already on its way when the connection ended finds the source disposed: nothing left to time out.
        try { ((CancellationTokenSource)source!).Cancel(); }
        catch (ObjectDisposedException) { }
    }

    private async Task<bool> ServeOneAsync()
    {
        _requestStarted = false;
        _responseStarted = false;
        _readTimer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (!_requestTimeout.TryReset()) return false;
        // Until the first byte this bounds an idle keep-alive connection; from then on, the request.
        _readTimer.Change(_limits.ReadTimeout, Timeout.InfiniteTimeSpan);
        try
        {
            return await ServeRequestAsync(_requestTimeout.Token);
        }
        catch (OperationCanceledException) when (_requestTimeout.IsCancellationRequested && !_closing)
        {
            if (!_requestStarted)
            {
                ControllerLog.IdleClosed(_log, _client);
                return false;
            }
            var rejection = new HttpRejection(408, $"request not received within {_limits.ReadTimeout.TotalSeconds:0.###} s");
            ControllerLog.Rejected(_log, _client, rejection.StatusCode, rejection.Reason);
            if (!_responseStarted) await SendTimeoutNoticeAsync(ControllerResponse.Refusal(rejection));
            return false;
        }
    }

    private async Task<bool> ServeRequestAsync(CancellationToken token)
    {
        var read = await _requests.ReadHeadAsync(_onRequestStarted, token);
        if (read.Status != RequestReadStatus.Read) return await EndAsync(read, token);
        var head = read.Request;

        // Before anything else, the scrape included: with a token set, nothing is served to whoever lacks it.
        if (_token is not null && !_token.Admits(head.Authorization))
            return await RefuseAsync(new HttpRejection(401, "missing or wrong bearer token: send Authorization: Bearer <the -c-token value>"), token);

        if (head.IsMetricsScrape) return await ServeMetricsAsync(head, token);
        if (head.IsHealthCheck) return await ServeHealthAsync(head, token);
        if (!head.IsPost)
            return await RefuseAsync(new HttpRejection(405,
                $"method {head.Method} is not allowed: the controller takes POST (and GET {ControllerRequest.MetricsPath}, GET {ControllerRequest.HealthPath})"), token);
        // Refused on the declared length alone, before a byte of the body is read.
        if (head.ContentLength > _limits.MaxBodyBytes) return await RefuseAsync(HttpRejection.BodyTooLarge(_limits), token);
        // RFC 9110 section 10.1.1: curl waits a second for this before sending a body over 1 MiB.
        if (head.ExpectsContinue && (head.IsChunked || head.ContentLength > 0))
            await _stream.WriteAsync(ControllerResponse.Continue, token);

        int capacity = head.IsChunked ? _limits.MaxBodyBytes : (int)Math.Max(head.ContentLength, 0);
        using var body = new PooledBodyBuffer(capacity);
        read = await _requests.ReadBodyAsync(head, body, token);
        if (read.Status != RequestReadStatus.Read) return await EndAsync(read, token);

        // A command may parse and build a table of thousands of users, or wait for the state file's disk: never on a socket engine's thread.
        await ThreadPoolHop.OffSocketThread;
        var outcome = await CommandProcessor.Dispatch(body.WrittenSpan, _table);
        _metrics.CommandAnswered(outcome.Opt, outcome.Reply.Res == ControllerReply.Success);
        ControllerLog.CommandAnswered(_log, _client, outcome.Opt, outcome.EntryCount, outcome.LogSummary);
        if (outcome.Reply.Res != ControllerReply.Success) ControllerLog.CommandError(_log, _client, outcome.Reply.ErrString);

        _responseStarted = true;
        await _stream.WriteAsync(ControllerResponse.Build(200, outcome.Reply, close: !head.KeepAlive), token);
        return head.KeepAlive;
    }

    private async Task<bool> ServeMetricsAsync(ControllerRequest head, CancellationToken token)
    {
        // A scrape has no body; one that came with a body could not be framed on a kept-alive connection.
        if (head.IsChunked || head.ContentLength > 0) return await RefuseAsync(HttpRejection.BadRequest("GET /metrics takes no body"), token);
        // Per-user series make a scrape CPU work in proportion to the users: off a socket engine's thread.
        await ThreadPoolHop.OffSocketThread;
        byte[] body = _exposition.Render();
        _responseStarted = true;
        await _stream.WriteAsync(ControllerResponse.Build(200, PrometheusTextWriter.ContentType, body, close: !head.KeepAlive), token);
        return head.KeepAlive;
    }

    private async Task<bool> ServeHealthAsync(ControllerRequest head, CancellationToken token)
    {
        if (head.IsChunked || head.ContentLength > 0) return await RefuseAsync(HttpRejection.BadRequest("GET /healthz takes no body"), token);
        _responseStarted = true;
        if (!_isDraining())
        {
            await _stream.WriteAsync(ControllerResponse.Build(200, ControllerReply.Ok, close: !head.KeepAlive), token);
            return head.KeepAlive;
        }
        // A load balancer or monitor takes 503 as "send no one here"; the request was read whole, so closing
        // after the answer loses nothing, and a checker reconnects for its next probe.
        await _stream.WriteAsync(ControllerResponse.Build(503, ControllerReply.Error(DrainingReason), close: true), token);
        return false;
    }

    // The first byte of a request: from now on the read timeout bounds the request, not an idle connection.
    private void OnRequestStarted()
    {
        _requestStarted = true;
        _readTimer.Change(_limits.ReadTimeout, Timeout.InfiniteTimeSpan);
    }

    /// <summary>A request that could not be read: refused, or cut short by the client. Always returns false.</summary>
    private async Task<bool> EndAsync(RequestRead read, CancellationToken token)
    {
        if (read.Status == RequestReadStatus.Refused) return await RefuseAsync(read.Rejection, token);
        if (read.ClosedIn is not null) ControllerLog.ClosedMidRequest(_log, _client, read.ClosedIn);
        return false;
    }

    /// <summary>Answers an HTTP-level failure, then closes; always returns false (the connection ends).</summary>
    private async Task<bool> RefuseAsync(HttpRejection rejection, CancellationToken token)
    {
        ControllerLog.Rejected(_log, _client, rejection.StatusCode, rejection.Reason);
        _responseStarted = true;
        await _stream.WriteAsync(ControllerResponse.Refusal(rejection), token);
        await LingerAsync();
        return false;
    }

    private async Task LingerAsync()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
            using var linger = new CancellationTokenSource(LingerTime);
            while (true)
            {
                ReadResult result = await _reader.ReadAsync(linger.Token);
                _reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted) return;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException)
        {
            // The client did not close in time, or reset: either way the connection is done.
        }
    }

    private async Task SendTimeoutNoticeAsync(byte[] response)
    {
        try
        {
            using var notice = new CancellationTokenSource(TimeoutNoticeTime);
            await _stream.WriteAsync(response, notice.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException)
        {
            // Nothing more can be sent; the connection is closed regardless.
        }
    }
}
