using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace Mtt.Tests.Listening;

/// <summary>
/// A real TLS handshake over loopback TCP: an SslStream server with the context under test, an SslStream client
/// whose validation callback decides, then one byte each way to show the session carries data.
/// </summary>
internal static class CertificateHandshake
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>What the client saw in its validation callback.</summary>
    internal sealed class PeerView
    {
        public required X509Certificate2 Leaf { get; init; }

        /// <summary>The certificates the server sent besides its leaf (SslStream puts them in the chain's extra store).</summary>
        public required X509Certificate2Collection Sent { get; init; }

        public required SslPolicyErrors PolicyErrors { get; init; }

        /// <summary>Elements of the chain the client built; set by <see cref="TrustsRootAndName"/>.</summary>
        public int BuiltChainLength { get; set; }
    }

    /// <summary>Runs the handshake; the client refuses the server when <paramref name="accept"/> returns false.</summary>
    /// <exception cref="System.Security.Authentication.AuthenticationException">The client refused.</exception>
    public static async Task<PeerView> RunAsync(SslStreamCertificateContext serverContext, string targetHost, Func<PeerView, bool> accept)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var cancel = new CancellationTokenSource(Timeout);
        Task server = ServeOneAsync(listener, serverContext, cancel.Token);
        bool serverAwaited = false;
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port, cancel.Token);
            await using var tls = new SslStream(client.GetStream());
            PeerView? view = null;
            var options = new SslClientAuthenticationOptions
            {
                TargetHost = targetHost,
                RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
                {
                    view = Capture(certificate, chain, errors);
                    return accept(view);
                },
            };
            await tls.AuthenticateAsClientAsync(options, cancel.Token).WaitAsync(Timeout);

            await tls.WriteAsync(new byte[] { 41 }, cancel.Token);
            var reply = new byte[1];
            await tls.ReadExactlyAsync(reply, cancel.Token).AsTask().WaitAsync(Timeout);
            Assert.Equal(42, reply[0]);

            serverAwaited = true;
            await server.WaitAsync(Timeout);
            return view!;
        }
        finally
        {
            listener.Stop();
            if (!serverAwaited)
            {
                // The client failed first; the server's side of the failure (an alert, a reset) is expected.
                try { await server.WaitAsync(Timeout); }
                catch (Exception e) when (e is not TimeoutException) { }
            }
        }
    }

    /// <summary>A client check: the chain builds to <paramref name="root"/> alone, offline, and the SAN holds <paramref name="host"/>.</summary>
    public static bool TrustsRootAndName(PeerView view, X509Certificate2 root, string host)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.ExtraStore.AddRange(view.Sent);
        bool trusted = chain.Build(view.Leaf);
        view.BuiltChainLength = chain.ChainElements.Count;
        bool nameMatches = (view.PolicyErrors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0
            && view.Leaf.MatchesHostname(host, allowWildcards: false, allowCommonName: false);
        return trusted && nameMatches;
    }

    private static async Task ServeOneAsync(TcpListener listener, SslStreamCertificateContext context, CancellationToken cancel)
    {
        using var socket = await listener.AcceptTcpClientAsync(cancel);
        await using var tls = new SslStream(socket.GetStream());
        await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificateContext = context }, cancel);
        var buffer = new byte[1];
        await tls.ReadExactlyAsync(buffer, cancel);
        buffer[0]++;
        await tls.WriteAsync(buffer, cancel);
        await tls.FlushAsync(cancel);
    }

    private static PeerView Capture(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        Assert.NotNull(certificate);
        var sent = new X509Certificate2Collection();
        if (chain is not null)
            foreach (var extra in chain.ChainPolicy.ExtraStore)
                if (extra.Thumbprint != ((X509Certificate2)certificate).Thumbprint) sent.Add(X509CertificateLoader.LoadCertificate(extra.RawData));
        return new PeerView
        {
            Leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()),
            Sent = sent,
            PolicyErrors = errors,
        };
    }
}
