namespace Mtt.Core.Transport;

/// <summary>
/// How a layer above frames the data it hands to a gathering write (<see cref="OpenSsl.Tls13RecordStream.WriteFramedAsync"/>):
/// the data is cut into frames of at most <see cref="MaxDataPerFrame"/> bytes, each behind a header of its own, so the
/// transport can seal the headers and the data from where they are instead of the layer copying both into one buffer
/// first. Implemented by structs, so the write is compiled per framing and calls these directly.
/// </summary>
internal interface IFrameHeaders
{
    /// <summary>The most bytes a header may take (<see cref="HeaderLength"/> never exceeds it).</summary>
    public const int MaxLength = 32;

    /// <summary>The most data bytes one frame carries.</summary>
    int MaxDataPerFrame { get; }

    /// <summary>The bytes before the data of a frame carrying <paramref name="dataLength"/> bytes.</summary>
    int HeaderLength(int dataLength);

    /// <summary>Writes the header of a frame carrying <paramref name="dataLength"/> bytes (<see cref="HeaderLength"/> of them).</summary>
    void WriteHeader(Span<byte> destination, int dataLength);
}
