using Microsoft.Extensions.Time.Testing;
using Mtt.Tests.Support;

namespace Mtt.Tests.Limits;

/// <summary>
/// <c>rate</c> on a fake clock: the user's tunnels and smux streams share one bucket a direction, so while the clock
/// stands still exactly one second's worth passes (the burst), and each second moved lets one more through.
/// Reads wait instead: nothing is dropped, and an unlimited user is not held back.
/// </summary>
public sealed class RateLimitTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private const int Rate = 64_000;
    // What the bucket grants at a time at this rate: a 32nd of it.
    private const int Slice = Rate / 32;
    // What may be short of a whole second's worth once it has passed: a slice left in each direction's bucket.
    private const int Slack = 2 * Slice;

    /// <summary>
    /// Echo clients that send all they are given at once and count what comes back, together. Each is given more than
    /// the test lets through: a loop whose client has sent everything waits for more holding its last grant.
    /// </summary>
    private sealed class Received
    {
        private readonly List<(long At, TaskCompletionSource Reached)> _waits = [];
        private long _total;

        public long Total => Interlocked.Read(ref _total);

        public void Add(int bytes)
        {
            long total = Interlocked.Add(ref _total, bytes);
            lock (_waits)
            {
                foreach (var (at, reached) in _waits)
                {
                    if (total >= at) reached.TrySetResult();
                }
            }
        }

        public Task AtLeastAsync(long bytes)
        {
            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_waits) _waits.Add((bytes, reached));
            if (Total >= bytes) reached.TrySetResult();
            return reached.Task.WaitAsync(Bound);
        }
    }

    private static async Task<RawWebSocketClient> PlainEchoAsync(ServerWithController server, string path, int bytes, Received received)
    {
        var client = await RawWebSocketClient.ConnectAsync(server.TunnelPort);
        Assert.Equal(101, (await client.UpgradeAsync(path).WaitAsync(Bound)).Status);
        _ = Task.Run(async () =>
        {
            var chunk = new byte[16 * 1024];
            for (int sent = 0; sent < bytes; sent += chunk.Length) await client.SendBinaryAsync(chunk);
        });
        _ = Task.Run(async () =>
        {
            while (await client.ReadFrameAsync() is { Opcode: 0x2 } frame) received.Add(frame.Payload.Length);
        });
        return client;
    }

    private static async Task<SmuxTestClient> SmuxEchoAsync(ServerWithController server, string path, int bytes, Received received)
    {
        var session = await SmuxTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{server.TunnelPort}{path}"));
        var stream = await session.OpenStreamAsync();
        _ = stream.WriteAsync(new byte[bytes]);
        _ = Task.Run(async () =>
        {
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await stream.ReadAsync(buffer)) > 0) received.Add(read);
        });
        return session;
    }

    private static async Task<(long FromClient, long ToClient)> CountedAsync(ServerWithController server, string path)
    {
        var user = await server.UserAsync(path);
        return (user.GetProperty("bytes_from_client").GetInt64(), user.GetProperty("bytes_to_client").GetInt64());
    }

    [Fact]
    public async Task TwoPlainTunnels_ShareTheUsersRate_ExactlyOneSecondsWorthPerSecond()
    {
        var time = new FakeTimeProvider();
        await using var backend = new EchoBackend();
        await using var server = ServerWithController.Start(time: time, perUser: true);
        await server.CommandAsync($$"""{"opt":1,"args_bunch":[{"path":"/slow","dst":"{{backend.Address}}","name":"slow","rate":{{Rate}}}]}""");
        var received = new Received();
        await using var a = await PlainEchoAsync(server, "/slow", 512 * 1024, received);
        await using var b = await PlainEchoAsync(server, "/slow", 512 * 1024, received);

        // The burst: one second's worth each way, for both tunnels together, granted in whole slices: what is left
        // of it may be less than the slice a read waits for. The server counts a byte to the client once its write
        // is done, which may be just after the client has it.
        await received.AtLeastAsync(Rate - Slack);
        var (fromClient, toClient) = await CountedAsync(server, "/slow");
        Assert.InRange(fromClient, Rate - Slack, Rate);
        Assert.InRange(toClient, 0, Rate);
        Assert.InRange(received.Total, Rate - Slack, Rate);

        time.Advance(TimeSpan.FromSeconds(1));
        await received.AtLeastAsync(2 * Rate - Slack);
        (fromClient, toClient) = await CountedAsync(server, "/slow");
        Assert.InRange(fromClient, 2 * Rate - Slack, 2 * Rate);
        Assert.InRange(toClient, Rate, 2 * Rate);
        Assert.InRange(received.Total, 2 * Rate - Slack, 2 * Rate);

        time.Advance(TimeSpan.FromSeconds(1));
        await received.AtLeastAsync(3 * Rate - Slack);
        Assert.InRange(received.Total, 3 * Rate - Slack, 3 * Rate);

        string metrics = await server.ScrapeAsync();
        var paced = System.Text.RegularExpressions.Regex.Match(metrics, "mtt_user_paced_seconds_total\\{user=\"slow\"\\} ([0-9.]+)");
        Assert.True(paced.Success, metrics);
        // Four loops (two tunnels, two directions) waited through two seconds each, at most.
        Assert.InRange(double.Parse(paced.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 1.0, 8.0);
    }

    [Fact]
    public async Task PlainTunnelsAndAnSmuxSession_ShareOneBucket_AndAnUnlimitedUserIsNotHeldBack()
    {
        var time = new FakeTimeProvider();
        await using var backend = new EchoBackend();
        await using var server = ServerWithController.Start(time: time);
        await server.CommandAsync($$"""
            {"opt":1,"args_bunch":[{"path":"/slow","dst":"{{backend.Address}}","rate":{{Rate}}},{"path":"/free","dst":"{{backend.Address}}"}]}
            """);
        var slow = new Received();
        await using var a = await PlainEchoAsync(server, "/slow", 256 * 1024, slow);
        await using var b = await PlainEchoAsync(server, "/slow", 256 * 1024, slow);
        await using var session = await SmuxEchoAsync(server, "/slow", 256 * 1024, slow);

        // smux frame headers take from the upstream bucket too, and grants are whole slices: up to a slice less comes back.
        await slow.AtLeastAsync(Rate - Slack);
        var (fromClient, toClient) = await CountedAsync(server, "/slow");
        Assert.InRange(fromClient, Rate - Slack, Rate);
        Assert.InRange(toClient, 0, Rate);

        // The clock stands still: the unlimited user moves a megabyte meanwhile, and the limited one nothing more.
        var free = new Received();
        await using var unlimited = await PlainEchoAsync(server, "/free", 1024 * 1024, free);
        await free.AtLeastAsync(1024 * 1024);
        Assert.InRange(slow.Total, Rate - Slack, Rate);

        time.Advance(TimeSpan.FromSeconds(1));
        await slow.AtLeastAsync(2 * Rate - Slack);
        Assert.InRange((await CountedAsync(server, "/slow")).FromClient, 2 * Rate - Slack, 2 * Rate);
        Assert.InRange(slow.Total, 2 * Rate - Slack, 2 * Rate);
    }

    [Fact]
    public async Task LiftingTheRate_LetsOpenTunnelsRunFree()
    {
        var time = new FakeTimeProvider();
        await using var backend = new EchoBackend();
        await using var server = ServerWithController.Start(time: time);
        await server.CommandAsync($$"""{"opt":1,"args_bunch":[{"path":"/u","dst":"{{backend.Address}}","rate":{{Rate}}}]}""");
        var received = new Received();
        await using var a = await PlainEchoAsync(server, "/u", 256 * 1024, received);
        await received.AtLeastAsync(Rate - Slack);

        await server.CommandAsync($$"""{"opt":1,"args_bunch":[{"path":"/u","dst":"{{backend.Address}}"}]}""");
        // The loops waiting for the bucket look again at their next tick; one is due within a slice.
        time.Advance(TimeSpan.FromSeconds(1.0 / 32));
        await received.AtLeastAsync(256 * 1024);
    }
}
