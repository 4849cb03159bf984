namespace Mtt.Core.Http;

/// <summary>Where parsing a request head stands after looking at the bytes buffered so far.</summary>
internal enum HeadParseStatus : byte
{
    /// <summary>The empty line that ends the head has not arrived, and nothing seen so far is wrong: read more.</summary>
    Incomplete,

    /// <summary>A whole, well-formed head, accepted by the handler.</summary>
    Complete,

    /// <summary>The head can never become valid; the reason says why and with which status to answer.</summary>
    Invalid,
}
