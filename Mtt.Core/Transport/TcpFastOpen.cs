using System.Globalization;
using System.Net.Sockets;

namespace Mtt.Core.Transport;

/// <summary>
/// TCP Fast Open (RFC 7413) on a listening socket, Linux only: a returning client's SYN may carry its first
/// bytes (the TLS ClientHello), saving a round trip. The kernel also needs the sysctl's server bit.
/// </summary>
internal static class TcpFastOpen
{
    // <netinet/in.h> and <netinet/tcp.h> on Linux.
    private const int IpProtoTcp = 6;
    private const int TcpFastOpenOption = 23;

    /// <summary>
    /// Fast Open connections not yet accepted that the kernel holds at once (beyond it, SYNs fall back to the
    /// normal handshake). Half the accept backlog: a bound on what unauthenticated SYN data can hold, not a capacity.
    /// </summary>
    public const int QueueLength = 256;

    /// <summary>The sysctl, a bit mask: 0x1 lets this host's clients use Fast Open, 0x2 its servers.</summary>
    public const string SysctlPath = "/proc/sys/net/ipv4/tcp_fastopen";

    private const int ServerBit = 0x2;

    /// <summary>Sets TCP_FASTOPEN with <see cref="QueueLength"/>; before <c>Listen</c>. Throws <see cref="SocketException"/> where unsupported.</summary>
    public static void Enable(Socket socket)
    {
        Span<byte> value = stackalloc byte[sizeof(int)];
        BitConverter.TryWriteBytes(value, QueueLength);
        socket.SetRawSocketOption(IpProtoTcp, TcpFastOpenOption, value);
    }

    /// <summary>The queue length the kernel holds for the socket (0 when Fast Open is off).</summary>
    public static int ReadQueueLength(Socket socket)
    {
        Span<byte> value = stackalloc byte[sizeof(int)];
        socket.GetRawSocketOption(IpProtoTcp, TcpFastOpenOption, value);
        return BitConverter.ToInt32(value);
    }

    /// <summary>Whether the sysctl's text (e.g. "1\n") has the server bit; null when it is not a number.</summary>
    public static bool? ServerEnabled(string sysctlText) =>
        int.TryParse(sysctlText.AsSpan().Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int value) ? (value & ServerBit) != 0 : null;

    /// <summary>Reads <see cref="SysctlPath"/>; null when it cannot be read or parsed.</summary>
    public static bool? ServerEnabledOnThisHost()
    {
        try
        {
            return ServerEnabled(File.ReadAllText(SysctlPath));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
