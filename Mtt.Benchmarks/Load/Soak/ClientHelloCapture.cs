using System.Net;
using System.Net.Security;
using System.Net.Sockets;

namespace Mtt.Benchmarks.Load.Soak;

/// <summary>A real ClientHello record as .NET's TLS client sends it, for the attacks that send part of one.</summary>
internal static class ClientHelloCapture
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    public static async Task<byte[]> CaptureAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync((IPEndPoint)listener.LocalEndPoint!).WaitAsync(Bound).ConfigureAwait(false);
        using var accepted = await listener.AcceptAsync().WaitAsync(Bound).ConfigureAwait(false);
        await using var ssl = new SslStream(new NetworkStream(client, ownsSocket: false), false, static (_, _, _, _) => true);
        // Never completes: this end only reads the hello, then closes.
        var handshake = ssl.AuthenticateAsClientAsync("localhost");
        byte[] header = await ReceiveExactlyAsync(accepted, 5).ConfigureAwait(false);
        byte[] record = new byte[5 + ((header[3] << 8) | header[4])];
        header.CopyTo(record, 0);
        (await ReceiveExactlyAsync(accepted, record.Length - 5).ConfigureAwait(false)).CopyTo(record, 5);
        accepted.Close();
        try { await handshake.WaitAsync(Bound).ConfigureAwait(false); }
        catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException) { }
        return record;
    }

    private static async Task<byte[]> ReceiveExactlyAsync(Socket socket, int count)
    {
        byte[] bytes = new byte[count];
        for (int received = 0; received < count;)
        {
            int n = await socket.ReceiveAsync(bytes.AsMemory(received), SocketFlags.None).AsTask().WaitAsync(Bound).ConfigureAwait(false);
            if (n == 0) throw new IOException("closed before a whole ClientHello");
            received += n;
        }
        return bytes;
    }
}
