using System.Buffers;
using System.IO.Pipelines;

namespace Mtt.Tests.Support;

/// <summary>One stream of a <see cref="SmuxTestClient"/>: writes split into frames (within the server's window in version 2), reads from what arrived.</summary>
public sealed class SmuxTestStream
{
    private readonly SmuxTestClient _client;
    private readonly Pipe _received = new(new PipeOptions(pauseWriterThreshold: 0, resumeWriterThreshold: 0));
    private readonly TaskCompletionSource _finReceived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _windowChanged = new(0);
    private readonly TaskCompletionSource _windowExhausted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _sent;
    private uint _peerConsumed;
    private uint _peerWindow = SmuxTestClient.InitialWindow;
    private long _receivedBytes;
    private long _consumed;
    private long _consumedAnnounced;
    private bool _announcedOnce;

    internal SmuxTestStream(SmuxTestClient client, uint id)
    {
        _client = client;
        Id = id;
    }

    public uint Id { get; }

    /// <summary>Completes when the server sent FIN on this stream.</summary>
    public Task FinReceived => _finReceived.Task;

    /// <summary>Version 2: completes when a write first had to wait for the server's window.</summary>
    public Task WindowExhausted => _windowExhausted.Task;

    /// <summary>Version 2: true if the server ever had more in flight than this client's window allowed.</summary>
    public bool WindowViolated { get; private set; }

    /// <summary>Writes <paramref name="data"/> as PSH frames; in version 2 waits for the server's window as xtaci/smux does.</summary>
    public async Task WriteAsync(ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty)
        {
            int length = Math.Min(data.Length, SmuxTestClient.MaxFrameData);
            if (_client.Version == 2)
            {
                while (true)
                {
                    long available = Volatile.Read(ref _peerWindow) - (_sent - Volatile.Read(ref _peerConsumed));
                    if (available > 0)
                    {
                        length = (int)Math.Min(length, available);
                        break;
                    }
                    _windowExhausted.TrySetResult();
                    if (FinReceived.IsCompleted) throw new EndOfStreamException("stream finished while waiting for the window");
                    await _windowChanged.WaitAsync();
                }
            }
            await _client.SendFrameAsync(SmuxTestClient.Psh, Id, data[..length]);
            _sent += length;
            data = data[length..];
        }
    }

    public Task CloseWriteAsync() => _client.SendFrameAsync(SmuxTestClient.Fin, Id, ReadOnlyMemory<byte>.Empty);

    /// <summary>Reads what arrived, waiting for some; 0 after the server's FIN and the last byte.</summary>
    public async Task<int> ReadAsync(Memory<byte> destination)
    {
        var read = await _received.Reader.ReadAsync();
        var buffer = read.Buffer;
        int count = (int)Math.Min(buffer.Length, destination.Length);
        buffer.Slice(0, count).CopyTo(destination.Span);
        _received.Reader.AdvanceTo(buffer.GetPosition(count));
        if (count > 0) await ConsumedAsync(count);
        return count;
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes, or fewer if the server's FIN comes first.</summary>
    public async Task<byte[]> ReadExactlyAsync(int count)
    {
        var all = new byte[count];
        int filled = 0, n;
        while (filled < count && (n = await ReadAsync(all.AsMemory(filled))) > 0) filled += n;
        return all[..filled];
    }

    /// <summary>Reads everything until the server's FIN.</summary>
    public async Task<byte[]> ReadToEndAsync()
    {
        var all = new MemoryStream();
        var buffer = new byte[64 * 1024];
        int n;
        while ((n = await ReadAsync(buffer)) > 0) all.Write(buffer, 0, n);
        return all.ToArray();
    }

    internal async Task DeliverAsync(ReadOnlyMemory<byte> data)
    {
        long received = Interlocked.Add(ref _receivedBytes, data.Length);
        if (_client.Version == 2 && received - Interlocked.Read(ref _consumedAnnounced) > Math.Max(_client.ReceiveWindow, SmuxTestClient.InitialWindow)) WindowViolated = true;
        await _received.Writer.WriteAsync(data);
    }

    private async Task ConsumedAsync(int count)
    {
        if (_client.Version != 2) return;
        long consumed = Interlocked.Add(ref _consumed, count);
        // xtaci/smux: announce the first read, then every half window.
        if (!_announcedOnce || consumed - Interlocked.Read(ref _consumedAnnounced) >= _client.ReceiveWindow / 2)
        {
            _announcedOnce = true;
            Interlocked.Exchange(ref _consumedAnnounced, consumed);
            await _client.SendUpdateAsync(Id, (uint)consumed);
        }
    }

    internal void OnFin()
    {
        _finReceived.TrySetResult();
        _received.Writer.Complete();
        _windowChanged.Release();
    }

    internal void OnUpdate(uint consumed, uint window)
    {
        Volatile.Write(ref _peerConsumed, consumed);
        Volatile.Write(ref _peerWindow, window);
        _windowChanged.Release();
    }

    internal void OnSessionEnded(string how)
    {
        _received.Writer.Complete(new EndOfStreamException($"the session ended: {how}"));
        _windowChanged.Release();
    }
}
