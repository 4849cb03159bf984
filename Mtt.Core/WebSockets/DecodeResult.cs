namespace Mtt.Core.WebSockets;

/// <summary>The outcome of one <see cref="FrameDecoder.Decode"/> call.</summary>
public readonly struct DecodeResult
{
    internal DecodeResult(DecodeStatus status, int payloadBytes, ushort closeCode = 0)
    {
        Status = status;
        PayloadBytes = payloadBytes;
        CloseCode = closeCode;
    }

    public DecodeStatus Status { get; }

    /// <summary>Data payload bytes written to the sink during this call, whatever the status.</summary>
    public int PayloadBytes { get; }

    /// <summary>
    /// For <see cref="DecodeStatus.Close"/> the peer's code (1005 when its close frame had no body);
    /// for <see cref="DecodeStatus.ProtocolError"/> the code to close with; otherwise 0.
    /// </summary>
    public ushort CloseCode { get; }

    public override string ToString() => $"{Status} payload={PayloadBytes} code={CloseCode}";
}
