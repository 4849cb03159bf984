using Mtt.Core.WebSockets;

namespace Mtt.Benchmarks.Relay;

/// <summary>Client frames as a WebSocket client sends them (RFC 6455 section 5.2): FIN, binary, masked (section 5.3).</summary>
internal static class MaskedClientFrame
{
    public const int MaskKey = 0x5A3C_9E71;
    public const int MaskKeyBytes = 4;

    /// <summary>The longest header a client sends: a server header's longest plus the mask key.</summary>
    public const int MaxHeaderLength = FrameWriter.MaxHeaderLength + MaskKeyBytes;

    /// <summary>One final binary frame carrying <paramref name="payload"/>.</summary>
    public static byte[] Binary(ReadOnlySpan<byte> payload)
    {
        Span<byte> header = stackalloc byte[MaxHeaderLength];
        int headerLength = WriteHeader(header, payload.Length);
        var frame = new byte[headerLength + payload.Length];
        Write(frame, payload);
        return frame;
    }

    /// <summary>Writes the frame into <paramref name="destination"/>; returns its length.</summary>
    public static int Write(Span<byte> destination, ReadOnlySpan<byte> payload)
    {
        int headerLength = WriteHeader(destination, payload.Length);
        Span<byte> body = destination.Slice(headerLength, payload.Length);
        payload.CopyTo(body);
        Masking.Apply(body, MaskKey, 0);
        return headerLength + payload.Length;
    }

    /// <summary>A header announcing <paramref name="payloadLength"/> bytes, in the shortest length encoding.</summary>
    public static int WriteHeader(Span<byte> destination, long payloadLength)
    {
        int length = FrameWriter.WriteHeader(destination, WebSocketOpcode.Binary, fin: true, payloadLength);
        return WithMask(destination, length);
    }

    /// <summary>Sets the mask bit of a server-style header of <paramref name="length"/> bytes and appends the key.</summary>
    public static int WithMask(Span<byte> header, int length)
    {
        header[1] |= 0x80;
        BitConverter.TryWriteBytes(header[length..], MaskKey);
        if (!BitConverter.IsLittleEndian) header.Slice(length, MaskKeyBytes).Reverse();
        return length + MaskKeyBytes;
    }
}
