namespace Mtt.Core.Control;

/// <summary>Where a <see cref="ChunkedBodyDecoder"/> stands after the bytes it was given.</summary>
internal enum ChunkedStatus : byte
{
    NeedMoreData,
    Done,
    Malformed,
    TooLarge,
}
