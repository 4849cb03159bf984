using System.Net;
using System.Net.Security;
using System.Net.Sockets;

namespace Mtt.Tests.Support;

/// <summary>
/// A real ClientHello record, as .NET's TLS client sends it, for attacks that send part of one (the tests' and the
/// load harness's soak, which links this file).
/// </summary>
public static class CapturedClientHello
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>The first TLS record a client sends: its ClientHello, header included.</summary>
    public static async Task<byte[]> CaptureAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var client = new TcpClient();
        await client.ConnectAsync((IPEndPoint)listener.LocalEndPoint!).WaitAsync(Bound);
        using var accepted = await listener.AcceptAsync().WaitAsync(Bound);
        var ssl = new SslStream(client.GetStream(), false, static (_, _, _, _) => true);
        // Never completes: the other end only reads the hello, then closes.
        var handshake = ssl.AuthenticateAsClientAsync("localhost");

        byte[] header = await ReceiveExactlyAsync(accepted, 5);
        byte[] record = new byte[5 + ((header[3] << 8) | header[4])];
        header.CopyTo(record, 0);
        (await ReceiveExactlyAsync(accepted, record.Length - 5)).CopyTo(record, 5);
        accepted.Close();
        try { await handshake.WaitAsync(Bound); }
        catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException) { }
        await ssl.DisposeAsync();
        return record;
    }

    private static async Task<byte[]> ReceiveExactlyAsync(Socket socket, int count)
    {
        byte[] bytes = new byte[count];
        int received = 0;
        while (received < count)
        {
            int n = await socket.ReceiveAsync(bytes.AsMemory(received), SocketFlags.None).AsTask().WaitAsync(Bound);
            if (n == 0) throw new EndOfStreamException("the TLS client closed before its ClientHello ended");
            received += n;
        }
        return bytes;
    }
}
