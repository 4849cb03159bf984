using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Mtt.Core.Listening;
using Mtt.Core.Transport;
using Mtt.Core.Transport.OpenSsl;
using Mtt.Tests.Support;

namespace Mtt.Tests.Transport;

/// <summary>A loopback listener whose connections get the engine's server end.</summary>
internal sealed class RecordLayerListener : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    public RecordLayerListener()
    {
        Certificate = SelfSignedCertificate.Create("localhost");
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen();
    }

    public X509Certificate2 Certificate { get; }

    public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

    public async Task<Stream> AcceptAsync(ulong recordsPerKey = Tls13RecordStream.DefaultRecordsPerKey)
    {
        var context = SslStreamCertificateContext.Create(Certificate, additionalCertificates: null, offline: true);
        var accepted = await _listener.AcceptAsync();
        return await OpenSslHandshake.AcceptAsync(accepted, context, handshakeSlots: null, new ShutdownRecord(), CancellationToken.None, recordsPerKey);
    }

    public ValueTask DisposeAsync()
    {
        _listener.Dispose();
        Certificate.Dispose();
        return default;
    }
}
