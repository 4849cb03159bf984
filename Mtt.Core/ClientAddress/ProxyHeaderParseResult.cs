using System.Net;

namespace Mtt.Core.ClientAddress;

/// <summary>The outcome of <see cref="ProxyHeaderParser"/>: a struct, so a pending or refused header allocates nothing.</summary>
public readonly struct ProxyHeaderParseResult
{
    private ProxyHeaderParseResult(ProxyHeaderParseStatus status, int length, int version, IPEndPoint? source, IPEndPoint? destination, string? reason)
    {
        Status = status;
        Length = length;
        Version = version;
        Source = source;
        Destination = destination;
        Reason = reason;
    }

    public ProxyHeaderParseStatus Status { get; }

    /// <summary>Complete: the header's length in bytes, CRLF or TLVs included. NeedMoreData: the bytes examined (all of them). Invalid: 0.</summary>
    public int Length { get; }

    /// <summary>1 (text) or 2 (binary) once known; 0 when the input is not a PROXY header at all.</summary>
    public int Version { get; }

    /// <summary>
    /// Complete: the client's address as the proxy saw it, or null for "local/unknown" (v1 UNKNOWN, v2 LOCAL,
    /// v2 AF_UNSPEC/AF_UNIX/UDP), where the spec says to use the connection's own endpoints.
    /// </summary>
    public IPEndPoint? Source { get; }

    /// <summary>Complete with a <see cref="Source"/>: the address the client connected to (the proxy's listener).</summary>
    public IPEndPoint? Destination { get; }

    /// <summary>Invalid: a short constant text for the log.</summary>
    public string? Reason { get; }

    internal static ProxyHeaderParseResult NeedMoreData(int examined) => new(ProxyHeaderParseStatus.NeedMoreData, examined, 0, null, null, null);

    internal static ProxyHeaderParseResult Invalid(int version, string reason) => new(ProxyHeaderParseStatus.Invalid, 0, version, null, null, reason);

    internal static ProxyHeaderParseResult Local(int version, int length) => new(ProxyHeaderParseStatus.Complete, length, version, null, null, null);

    internal static ProxyHeaderParseResult Proxied(int version, int length, IPEndPoint source, IPEndPoint destination) =>
        new(ProxyHeaderParseStatus.Complete, length, version, source, destination, null);
}
