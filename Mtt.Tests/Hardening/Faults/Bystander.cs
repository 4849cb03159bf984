using Mtt.Tests.Support;

namespace Mtt.Tests.Hardening.Faults;

/// <summary>
/// A tunnel (or smux stream) not at fault: echoes a known pattern round after round while a fault hits
/// something else, checking every byte that comes back. <see cref="AdvancedAsync"/> proves it moves
/// while the fault happens; <see cref="StopAsync"/> proves it lost nothing and still closes cleanly.
/// </summary>
internal sealed class Bystander
{
    /// <summary>Bytes per round: a few messages or frames, small enough for many rounds while a fault plays out.</summary>
    public const int RoundBytes = 24 * 1024;

    private readonly Func<ReadOnlyMemory<byte>, Task> _send;
    private readonly Func<int, Task<byte[]>> _receive;
    private readonly Func<Task> _close;
    private readonly CancellationTokenSource _stop = new();
    private readonly Random _pattern;
    private readonly Task _loop;
    private TaskCompletionSource _round = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _verified;

    private Bystander(string name, int seed, Func<ReadOnlyMemory<byte>, Task> send, Func<int, Task<byte[]>> receive, Func<Task> close)
    {
        Name = name;
        _pattern = new Random(seed);
        _send = send;
        _receive = receive;
        _close = close;
        _loop = Task.Run(LoopAsync);
    }

    public string Name { get; }

    /// <summary>Bytes sent and echoed back byte-exact so far.</summary>
    public long VerifiedBytes => Interlocked.Read(ref _verified);

    /// <summary>A plain (smux_off) tunnel already past its 101.</summary>
    public static Bystander Plain(string name, RawWebSocketClient client, int seed) => new(name, seed,
        payload => client.SendBinaryAsync(payload),
        async count =>
        {
            var received = new MemoryStream();
            while (received.Length < count)
            {
                var frame = await client.ReadFrameAsync();
                if (frame is not { Opcode: 0x2 } data) throw new InvalidDataException($"{name}: expected the echo, got {(frame is null ? "the end" : $"opcode {frame.Value.Opcode}")}");
                received.Write(data.Payload);
            }
            return received.ToArray();
        },
        async () =>
        {
            await client.SendCloseAsync(1000);
            var code = await client.ReadUntilCloseAsync();
            if (code != 1000) throw new InvalidDataException($"{name}: the server answered our close with {code?.ToString() ?? "nothing"}");
            await client.DisposeAsync();
        });

    /// <summary>A stream of an smux session.</summary>
    public static Bystander Smux(string name, SmuxTestStream stream, int seed) => new(name, seed,
        payload => stream.WriteAsync(payload),
        count => stream.ReadExactlyAsync(count),
        async () =>
        {
            await stream.CloseWriteAsync();
            var rest = await stream.ReadToEndAsync();
            if (rest.Length != 0) throw new InvalidDataException($"{name}: {rest.Length} bytes after the last echo");
        });

    private async Task LoopAsync()
    {
        var payload = new byte[RoundBytes];
        bool first = true;
        while (!_stop.IsCancellationRequested)
        {
            _pattern.NextBytes(payload);
            // A scripted EchoBackend reads a connection's first byte as its order: 0 is a plain echo.
            if (first) payload[0] = 0;
            first = false;
            var echo = _receive(payload.Length);
            await _send(payload);
            var received = await echo;
            if (!received.AsSpan().SequenceEqual(payload))
            {
                throw new InvalidDataException($"{Name}: round after {VerifiedBytes} bytes came back {(received.Length == payload.Length ? "altered" : $"{received.Length} of {payload.Length} bytes long")}");
            }
            Interlocked.Add(ref _verified, payload.Length);
            Interlocked.Exchange(ref _round, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
    }

    /// <summary>Completes once <paramref name="rounds"/> more rounds came back byte-exact; throws if the bystander failed.</summary>
    public async Task AdvancedAsync(int rounds, TimeSpan bound)
    {
        long target = VerifiedBytes + (long)rounds * RoundBytes;
        using var deadline = new CancellationTokenSource(bound);
        while (VerifiedBytes < target)
        {
            var round = Volatile.Read(ref _round).Task;
            if (VerifiedBytes >= target) break;
            var done = await Task.WhenAny(round, _loop).WaitAsync(deadline.Token);
            if (done == _loop)
            {
                await _loop;
                throw new InvalidOperationException($"{Name} stopped on its own");
            }
        }
    }

    /// <summary>Stops after the round in flight, closes cleanly, and returns the bytes echoed byte-exact in all.</summary>
    public async Task<long> StopAsync(TimeSpan bound)
    {
        _stop.Cancel();
        await _loop.WaitAsync(bound);
        await _close().WaitAsync(bound);
        return VerifiedBytes;
    }
}
