using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Mtt.Core.Listening;
using Mtt.Core.Transport;
using Mtt.Tests.Hardening;
using Mtt.Tests.Support;

namespace Mtt.Tests.Transport;

/// <summary>What a TLS client sees of either engine: the versions, ALPN and certificate reload it must agree on.</summary>
public sealed class TlsEngineTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    public static TheoryData<TlsEngine, SslProtocols> EnginesAndVersions => new()
    {
        { TlsEngine.SslStream, SslProtocols.Tls12 },
        { TlsEngine.SslStream, SslProtocols.Tls13 },
        { TlsEngine.OpenSsl, SslProtocols.Tls12 },
        { TlsEngine.OpenSsl, SslProtocols.Tls13 },
    };

    private static async Task<RawWebSocketClient> OpenAsync(TestServer server, SslClientAuthenticationOptions tls)
    {
        using var cancel = new CancellationTokenSource(Bound);
        return await RawWebSocketClient.OpenTunnelAsync(server.Port, tls, AttackedServer.UserPath, "smux_off", cancel.Token);
    }

    private static (TestServer Server, EchoBackend Backend) Start(TlsEngine engine)
    {
        var backend = new EchoBackend();
        var server = TestServer.Start(tls: true, engine: engine);
        server.AddUser(AttackedServer.UserPath, backend.Address);
        return (server, backend);
    }

    [Theory]
    [MemberData(nameof(EnginesAndVersions))]
    public async Task ClientLimitedToOneVersion_GetsThatVersion_AndATunnel(TlsEngine engine, SslProtocols version)
    {
        var (server, backend) = Start(engine);
        await using var _ = server;
        await using var __ = backend;

        await using var client = await OpenAsync(server, TlsClients.Pinned(server.Certificate!, version));

        Assert.Equal(version, ((SslStream)client.Stream).SslProtocol);
        await client.AssertEchoesThenClosesAsync($"over {version}", Bound);
    }

    [Theory]
    [MemberData(nameof(TlsEngines.Both), MemberType = typeof(TlsEngines))]
    public async Task ClientOfferingH2AndHttp11_GetsHttp11(TlsEngine engine)
    {
        var (server, backend) = Start(engine);
        await using var _ = server;
        await using var __ = backend;

        await using var client = await OpenAsync(server, TlsClients.Pinned(server.Certificate!, alpn: [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11]));

        Assert.Equal(SslApplicationProtocol.Http11, ((SslStream)client.Stream).NegotiatedApplicationProtocol);
        await client.AssertEchoesThenClosesAsync("after ALPN", Bound);
    }

    [Theory]
    [MemberData(nameof(TlsEngines.Both), MemberType = typeof(TlsEngines))]
    public async Task ClientOfferingNoAlpn_GetsNone_AndATunnel(TlsEngine engine)
    {
        var (server, backend) = Start(engine);
        await using var _ = server;
        await using var __ = backend;

        await using var client = await OpenAsync(server, TlsClients.Pinned(server.Certificate!));

        Assert.Equal(default, ((SslStream)client.Stream).NegotiatedApplicationProtocol);
        await client.AssertEchoesThenClosesAsync("without ALPN", Bound);
    }

    [Theory]
    [MemberData(nameof(TlsEngines.Both), MemberType = typeof(TlsEngines))]
    public async Task ClientOfferingOnlyH2_IsRefusedInTheHandshake_AndTheNextClientIsServed(TlsEngine engine)
    {
        var (server, backend) = Start(engine);
        await using var _ = server;
        await using var __ = backend;

        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var refused = await OpenAsync(server, TlsClients.Pinned(server.Certificate!, alpn: [SslApplicationProtocol.Http2]));
        });

        await using var client = await OpenAsync(server, TlsClients.Pinned(server.Certificate!));
        await client.AssertEchoesThenClosesAsync("after a refused ALPN", Bound);
    }

    [Theory]
    [MemberData(nameof(TlsEngines.Both), MemberType = typeof(TlsEngines))]
    public async Task ReplacedCertificate_IsPresentedToNewClients_WhileAnOpenTunnelGoesOn(TlsEngine engine)
    {
        var (server, backend) = Start(engine);
        await using var _ = server;
        await using var __ = backend;
        await using var before = await OpenAsync(server, TlsClients.Pinned(server.Certificate!));

        using var next = SelfSignedCertificate.Create("localhost");
        server.ServerCertificate!.Replace(SslStreamCertificateContext.Create(next, additionalCertificates: null, offline: true));

        await Assert.ThrowsAnyAsync<AuthenticationException>(async () =>
        {
            await using var pinnedToOld = await OpenAsync(server, TlsClients.Pinned(server.Certificate!));
        });
        await using var after = await OpenAsync(server, TlsClients.Pinned(next));
        await after.AssertEchoesThenClosesAsync("with the new certificate", Bound);
        await before.AssertEchoesThenClosesAsync("on the tunnel opened before the reload", Bound);
    }
}
