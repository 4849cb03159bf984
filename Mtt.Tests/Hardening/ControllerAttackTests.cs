using System.Text;
using Mtt.Core.Control.Http;
using Mtt.Tests.Control;

namespace Mtt.Tests.Hardening;

/// <summary>
/// Controller violations over raw sockets: HTTP-level ones get their status and a closed connection,
/// command-level ones res 2 on a connection that stays usable; either way the controller answers the
/// next client, and nothing was applied.
/// </summary>
public class ControllerAttackTests
{
    private const string Ping = """{"opt":9}""";

    private static string Post(string body) => $"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}";

    public static TheoryData<string, string, int> HttpViolations => new()
    {
        { "garbage", "\u0001\u0002\u0003\r\n\r\n", 400 },
        { "no method", " / HTTP/1.1\r\nHost: x\r\n\r\n", 400 },
        { "bad version", "POST / HTTP/1.x\r\nHost: x\r\n\r\n", 400 },
        { "head over 16 KiB", $"POST / HTTP/1.1\r\nHost: x\r\nX-Big: {new string('a', 17 * 1024)}\r\n\r\n", 431 },
        { "negative length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400 },
        { "two lengths", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400 },
        { "413 by length", $"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {ControllerLimits.DefaultMaxBodyBytes + 1}\r\n\r\n", 413 },
        { "413 by a huge length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n", 413 },
        { "413 chunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n200001\r\n", 413 },
        { "413 chunked over 16 hex digits", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", 413 },
        { "GET /", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 405 },
        { "PUT", "PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", 405 },
    };

    [Theory]
    [MemberData(nameof(HttpViolations))]
    public async Task HttpViolation_GetsItsStatus_IsClosed_AndTheControllerServesTheNextClient(string violation, string request, int status)
    {
        await using var controller = RunningController.Start();
        await using (var connection = await controller.ConnectAsync())
        {
            await connection.SendAsync(request).WaitAsync(RunningController.Bound);
            var response = await connection.ReadResponseAsync().WaitAsync(RunningController.Bound);
            Assert.True(response.Status == status, $"{violation}: expected {status}, got {response.Head}");
            Assert.True(await connection.IsClosedByServerAsync().WaitAsync(RunningController.Bound), $"{violation}: left open");
        }

        await AssertPingAnsweredAsync(controller);
        Assert.Equal(0, controller.Routes.Current.Count);
    }

    public static TheoryData<string, string> CommandViolations => new()
    {
        { "not JSON", "opt=1" },
        { "truncated JSON", """{"opt":1""" },
        { "opt as a string", """{"opt":"1"}""" },
        { "opt as a float", """{"opt":1.5}""" },
        { "opt missing", """{"args_bunch":[]}""" },
        { "args_bunch an object", """{"opt":1,"args_bunch":{"path":"/a","dst":"127.0.0.1:1"}}""" },
        { "args_bunch missing", """{"opt":1}""" },
        { "path a number", """{"opt":1,"args_bunch":[{"path":1,"dst":"127.0.0.1:1"}]}""" },
        { "dst missing", """{"opt":1,"args_bunch":[{"path":"/a"}]}""" },
        { "path missing", """{"opt":1,"args_bunch":[{"dst":"127.0.0.1:1"}]}""" },
        { "null entry", """{"opt":1,"args_bunch":[null]}""" },
        { "array body", """[1,2,3]""" },
        { "deep nesting", new string('[', 5000) + new string(']', 5000) },
    };

    [Theory]
    [MemberData(nameof(CommandViolations))]
    public async Task CommandViolation_GetsResTwo_AndTheSameConnectionServesTheNextCommand(string violation, string body)
    {
        await using var controller = RunningController.Start();
        await using var connection = await controller.ConnectAsync();

        await connection.SendAsync(Post(body)).WaitAsync(RunningController.Bound);
        var refused = await connection.ReadResponseAsync().WaitAsync(RunningController.Bound);
        Assert.True(refused.Status == 200 && refused.Body.Contains("\"res\":2", StringComparison.Ordinal), $"{violation}: {refused.Head}{refused.Body}");

        await connection.SendAsync(Post(Ping)).WaitAsync(RunningController.Bound);
        var pinged = await connection.ReadResponseAsync().WaitAsync(RunningController.Bound);
        Assert.Contains("\"res\":1", pinged.Body);
        Assert.Equal(0, controller.Routes.Current.Count);
        await AssertPingAnsweredAsync(controller);
    }

    private static async Task AssertPingAnsweredAsync(RunningController controller)
    {
        await using var next = await controller.ConnectAsync();
        await next.SendAsync(Post(Ping)).WaitAsync(RunningController.Bound);
        var response = await next.ReadResponseAsync().WaitAsync(RunningController.Bound);
        Assert.Equal(200, response.Status);
        Assert.Contains("\"res\":1", response.Body);
    }
}
