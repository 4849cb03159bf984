namespace Mtt.Core.ClientAddress;

/// <summary>What <see cref="ProxyHeaderParser.Parse(System.ReadOnlySpan{byte})"/> made of the bytes so far.</summary>
public enum ProxyHeaderParseStatus
{
    /// <summary>No verdict yet: every byte seen belongs to the header, which is longer.</summary>
    NeedMoreData,

    /// <summary>Not a PROXY protocol header, or a malformed one: the connection is to be dropped.</summary>
    Invalid,

    /// <summary>A whole valid header; the bytes after it are the client's (TLS or HTTP).</summary>
    Complete,
}
