namespace Mtt.Core.ClientAddress;

/// <summary><c>-send-proxy</c>: which PROXY protocol header (haproxy proxy-protocol.txt) starts every backend connection.</summary>
public enum ProxyHeaderVersion
{
    /// <summary>No header: the backend sees the relayed bytes only.</summary>
    None = 0,

    /// <summary>Version 1, one line of text (section 2.1).</summary>
    V1 = 1,

    /// <summary>Version 2, binary (section 2.2).</summary>
    V2 = 2,
}
