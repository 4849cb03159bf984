namespace Mtt.Core.Transport;

/// <summary>The outcome of <see cref="HostPortParser.Parse"/>, with what a caller needs to word a refusal.</summary>
public readonly struct HostPortParseResult
{
    internal HostPortParseResult(HostPortError error, string host, int port, int portStart)
    {
        Error = error;
        Host = host;
        Port = port;
        PortStart = portStart;
    }

    public HostPortError Error { get; }

    public bool Succeeded => Error == HostPortError.None;

    /// <summary>The host without brackets (empty for <c>:port</c>); set as soon as it was cut out, so a refused host can be named.</summary>
    public string Host { get; }

    public int Port { get; }

    /// <summary>Where the port's text starts in the input, or -1 when the parse stopped before it.</summary>
    public int PortStart { get; }
}
