namespace Mtt.Core.Control.Http;

/// <summary>Where a <see cref="ChunkedBodyDecoder"/> stands after the bytes it was given.</summary>
internal enum ChunkedStatus : byte
{
    NeedMoreData,
    Done,
    Malformed,
    TooLarge,
}
