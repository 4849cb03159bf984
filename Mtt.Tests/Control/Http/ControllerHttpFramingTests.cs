using Microsoft.Extensions.Time.Testing;
using System.Text;
using System.Text.Json;
using Mtt.Core.Control.Http;
using Mtt.Tests.Support;

namespace Mtt.Tests.Control.Http;

/// <summary>The controller's HTTP/1.1 handling on raw sockets: framing, limits, timeouts and keep-alive.</summary>
public class ControllerHttpFramingTests
{
    private const int Limit = ControllerLimits.DefaultMaxBodyBytes;

    private static string Post(string body, string extraHeaders = "") =>
        $"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n{extraHeaders}Content-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}";

    private static void AssertRefusal(RawResponse response, int status, string reason)
    {
        Assert.Equal(status, response.Status);
        Assert.Equal("application/json", response.Header("Content-Type"));
        Assert.Equal("close", response.Header("Connection"));
        using var json = JsonDocument.Parse(response.Body);
        Assert.Equal(2, json.RootElement.GetProperty("res").GetInt32());
        Assert.Contains(reason, json.RootElement.GetProperty("err_string").GetString());
    }

    [Fact]
    public async Task KeepAlive_ServesTwoRequestsOnOneConnection_EvenPipelined()
    {
        await using var controller = RunningController.Start();
        await using var connection = await controller.ConnectAsync();

        await connection.SendAsync(Post(UserBodies.Add("/a", "127.0.0.1:1")) + Post("""{"opt":9}"""));
        var first = await connection.ReadResponseAsync();
        var second = await connection.ReadResponseAsync();
        await connection.SendAsync(Post("""{"opt":9}"""));
        var third = await connection.ReadResponseAsync();

        Assert.Equal("""{"res":1}""", first.Body);
        Assert.Null(first.Header("Connection"));
        Assert.Equal("""{"res":1,"current_users":1}""", second.Body);
        Assert.Equal("""{"res":1,"current_users":1}""", third.Body);
    }

    [Fact]
    public async Task ConnectionClose_IsHonouredAfterTheResponse()
    {
        await using var controller = RunningController.Start();
        await using var connection = await controller.ConnectAsync();

        await connection.SendAsync(Post("""{"opt":9}""", "Connection: close\r\n"));
        var response = await connection.ReadResponseAsync();

        Assert.Equal(200, response.Status);
        Assert.Equal("close", response.Header("Connection"));
        Assert.True(await connection.IsClosedByServerAsync());
    }

    [Fact]
    public async Task Http10Request_IsAnsweredAndClosed()
    {
        await using var controller = RunningController.Start();
        await using var connection = await controller.ConnectAsync();

        await connection.SendAsync("POST / HTTP/1.0\r\nContent-Length: 9\r\n\r\n{\"opt\":9}");
        var response = await connection.ReadResponseAsync();

        Assert.Equal("""{"res":1,"current_users":0}""", response.Body);
        Assert.True(await connection.IsClosedByServerAsync());
    }

    [Fact]
    public async Task HeadsWithBareLfLineEnds_AreServedAtOnce_AndKeptAlive()
    {
        // Go's net/http, which the original controller used, ends head lines at LF with or without CR (RFC 9112 section 2.2).
        await using var controller = RunningController.Start();
        await using var connection = await controller.ConnectAsync();

        await connection.SendAsync(Post(UserBodies.Add("/a", "127.0.0.1:1")).Replace("\r\n", "\n", StringComparison.Ordinal));
        var first = await connection.ReadResponseAsync();
        await connection.SendAsync(Post("""{"opt":9}""").Replace("\r\n", "\n", StringComparison.Ordinal));
        var second = await connection.ReadResponseAsync();

        Assert.Equal("""{"res":1}""", first.Body);
        Assert.Equal("""{"res":1,"current_users":1}""", second.Body);
    }

    [Fact]
    public async Task ChunkedBody_IsAccepted()
    {
        await using var controller = RunningController.Start();
        await using var connection = await controller.ConnectAsync();
        string json = UserBodies.Add("/chunked", "127.0.0.1:7");

        await connection.SendAsync("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + $"{10:x};ext=1\r\n{json[..10]}\r\n");
        await connection.SendAsync($"{json.Length - 10:x}\r\n{json[10..]}\r\n0\r\nX-Trailer: 1\r\n\r\n");
        var response = await connection.ReadResponseAsync();

        Assert.Equal(200, response.Status);
        Assert.Equal("""{"res":1}""", response.Body);
        Assert.True(controller.Routes.Current.TryGet("/chunked", out _));
    }

    [Fact]
    public async Task ContentLengthOneByteOver2MiB_Gets413WithoutTheBody_AndIsClosed()
    {
        await using var controller = RunningController.Start();
        await using var connection = await controller.ConnectAsync();

        // Only the head is sent: the refusal must come from the declared length alone.
        await connection.SendAsync($"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {Limit + 1}\r\n\r\n");
        var response = await connection.ReadResponseAsync();

        AssertRefusal(response, 413, "larger than 2097152 bytes");
        Assert.True(await connection.IsClosedByServerAsync());
        Assert.Equal(0, controller.Routes.Current.Count);
    }

    [Fact]
    public async Task ContentLengthOver2MiB_WithTheBodySent_StillGets413()
    {
        await using var controller = RunningController.Start();
        await using var connection = await controller.ConnectAsync();
        byte[] body = UserBodies.PaddedAdd("/over", Limit + 1);

        var sending = connection.SendAsync(Encoding.ASCII.GetBytes($"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {body.Length}\r\n\r\n").Concat(body).ToArray());
        var response = await connection.ReadResponseAsync();
        await sending;

        AssertRefusal(response, 413, "larger than");
        Assert.Equal(0, controller.Routes.Current.Count);
    }

    [Fact]
    public async Task ChunkedBodyOneByteOver2MiB_Gets413AsSoonAsExceeded()
    {
        await using var controller = RunningController.Start();
        await using var connection = await controller.ConnectAsync();
        byte[] body = UserBodies.PaddedAdd("/over", Limit);

        await connection.SendAsync(Encoding.ASCII.GetBytes($"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{Limit:x}\r\n")
            .Concat(body).Concat("\r\n1\r\n"u8.ToArray()).ToArray());
        // The last byte is never sent: the chunk-size line that would exceed the limit is enough.
        var response = await connection.ReadResponseAsync();

        AssertRefusal(response, 413, "larger than 2097152 bytes");
        Assert.Equal(0, controller.Routes.Current.Count);
    }

    [Fact]
    public async Task ChunkedBodyOfExactly2MiB_IsAccepted()
    {
        await using var controller = RunningController.Start();
        await using var connection = await controller.ConnectAsync();
        byte[] body = UserBodies.PaddedAdd("/exact", Limit);

        await connection.SendAsync(Encoding.ASCII.GetBytes($"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{Limit - 1:x}\r\n")
            .Concat(body[..^1]).Concat("\r\n1\r\n "u8.ToArray()).Concat("\r\n0\r\n\r\n"u8.ToArray()).ToArray());
        var response = await connection.ReadResponseAsync();

        Assert.Equal("""{"res":1}""", response.Body);
        Assert.True(controller.Routes.Current.TryGet("/exact", out _));
    }

    [Fact]
    public async Task ExpectContinue_Gets100ThenTheResult()
    {
        await using var controller = RunningController.Start();
        await using var connection = await controller.ConnectAsync();
        string json = UserBodies.Add("/a", "127.0.0.1:1");

        await connection.SendAsync($"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: {json.Length}\r\n\r\n");
        var interim = await connection.ReadResponseAsync();
        await connection.SendAsync(json);
        var final = await connection.ReadResponseAsync();

        Assert.Equal("HTTP/1.1 100 Continue", interim.Head);
        Assert.Equal("""{"res":1}""", final.Body);
        Assert.Equal(1, controller.Routes.Current.Count);
    }

    [Fact]
    public async Task ExpectContinueWithOversizedLength_Gets413Instead()
    {
        await using var controller = RunningController.Start();
        await using var connection = await controller.ConnectAsync();

        await connection.SendAsync($"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: {Limit + 1}\r\n\r\n");
        var response = await connection.ReadResponseAsync();

        AssertRefusal(response, 413, "larger than");
    }

    [Theory]
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}", 400, "both Content-Length and Transfer-Encoding")]
    [InlineData("HELLO\r\n\r\n", 400, "malformed HTTP request")]
    [InlineData("POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", 400, "missing Host")]
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "invalid chunk size")]
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "only chunked")]
    [InlineData("POST / HTTP/3.0\r\nHost: x\r\n\r\n", 505, "use HTTP/1.1")]
    [InlineData("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", 405, "method PUT is not allowed")]
    [InlineData("DELETE / HTTP/1.1\r\nHost: x\r\n\r\n", 405, "the controller takes POST")]
    [InlineData("POST / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n\n2\n{}\n0\n\n", 400, "chunk-size line ended by a bare LF")]
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\n", 400, "trailer line ended by a bare LF")]
    public async Task BadRequest_GetsItsStatusWithAJsonBody_AndIsClosed(string request, int status, string reason)
    {
        await using var controller = RunningController.Start();
        await using var connection = await controller.ConnectAsync();

        await connection.SendAsync(request);
        var response = await connection.ReadResponseAsync();

        AssertRefusal(response, status, reason);
        Assert.True(await connection.IsClosedByServerAsync());
        Assert.Equal(0, controller.Routes.Current.Count);
    }

    [Fact]
    public async Task OversizedHead_Gets431()
    {
        await using var controller = RunningController.Start(new ControllerLimits { MaxHeadBytes = 1024, ReadTimeout = RunningController.LongReadTimeout });
        await using var connection = await controller.ConnectAsync();

        await connection.SendAsync($"POST / HTTP/1.1\r\nHost: x\r\nX-Filler: {new string('a', 2000)}\r\n");
        var response = await connection.ReadResponseAsync();

        AssertRefusal(response, 431, "larger than 1024 bytes");
    }

    private static readonly TimeSpan ClockStep = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task StalledBody_Gets408AfterTheReadTimeoutOnItsClock_AndIsDropped_NothingApplied()
    {
        var time = new FakeTimeProvider();
        var readTimeout = TimeSpan.FromSeconds(30);
        await using var controller = RunningController.Start(new ControllerLimits { ReadTimeout = readTimeout }, time: time);
        await using var connection = await controller.ConnectAsync();
        string json = UserBodies.Add("/stalled", "127.0.0.1:1");

        await connection.SendAsync($"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {json.Length}\r\n\r\n{json[..10]}");
        var answered = connection.ReadResponseAsync();
        var moved = await FakeClock.AdvanceUntilAsync(time, answered, ClockStep, readTimeout + 10 * ClockStep);

        Assert.True(moved >= readTimeout, $"answered after {moved}");
        AssertRefusal(await answered, 408, "not received within 30 s");
        Assert.True(await connection.IsClosedByServerAsync());
        Assert.Equal(0, controller.Routes.Current.Count);
    }

    [Fact]
    public async Task IdleConnection_IsClosedQuietlyAfterTheReadTimeoutOnItsClock()
    {
        var time = new FakeTimeProvider();
        var readTimeout = TimeSpan.FromSeconds(30);
        await using var controller = RunningController.Start(new ControllerLimits { ReadTimeout = readTimeout }, time: time);
        await using var connection = await controller.ConnectAsync();

        var closed = connection.IsClosedByServerAsync();
        var moved = await FakeClock.AdvanceUntilAsync(time, closed, ClockStep, readTimeout + 10 * ClockStep);

        Assert.True(moved >= readTimeout, $"closed after {moved}");
        Assert.True(await closed);
    }

    [Fact]
    public async Task ConnectionsBeyondTheLimit_Get503()
    {
        await using var controller = RunningController.Start(new ControllerLimits { MaxConnections = 1, ReadTimeout = RunningController.LongReadTimeout });
        await using var first = await controller.ConnectAsync();
        await first.SendAsync(Post("""{"opt":9}"""));
        Assert.Equal(200, (await first.ReadResponseAsync()).Status);

        await using var second = await controller.ConnectAsync();
        var refused = await second.ReadResponseAsync();

        AssertRefusal(refused, 503, "too many controller connections");
        await first.SendAsync(Post("""{"opt":9}"""));
        Assert.Equal(200, (await first.ReadResponseAsync()).Status);
    }

    [Fact]
    public async Task Dispose_ClosesOpenConnections()
    {
        var controller = RunningController.Start();
        await using var connection = await controller.ConnectAsync();
        await connection.SendAsync(Post("""{"opt":9}"""));
        await connection.ReadResponseAsync();

        await controller.DisposeAsync();

        Assert.True(await connection.IsClosedByServerAsync());
    }
}
