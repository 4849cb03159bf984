using Mtt.Core.Transport;
using Mtt.Tests.Hardening;
using Mtt.Tests.Support;

namespace Mtt.Tests.Transport;

/// <summary>
/// A TLS 1.2 client that asks to renegotiate, through OpenSSL's own client (`openssl s_client`, whose `R` command
/// does it): the server refuses, and the client learns so at once rather than waiting out the server's timeouts
/// (set far beyond the bound here), whichever engine computes TLS.
/// </summary>
public sealed class TlsRenegotiationTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ServerTimeouts = TimeSpan.FromMinutes(10);

    [Theory]
    [MemberData(nameof(TlsEngines.Both), MemberType = typeof(TlsEngines))]
    public async Task ClientAskingToRenegotiate_IsRefusedAtOnce_AndTheNextClientIsServed(TlsEngine engine)
    {
        await using var backend = new EchoBackend();
        await using var server = TestServer.Start(tls: true, engine: engine, idleTimeout: ServerTimeouts, handshakeTimeout: ServerTimeouts);
        server.AddUser(AttackedServer.UserPath, backend.Address);

        using var client = OpenSslClientProcess.Create(server.Port, "-tls1_2", "-alpn", "http/1.1");
        // s_client prints its "---" separators once the handshake is done.
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var renegotiating = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null || e.Data.StartsWith("---", StringComparison.Ordinal)) connected.TrySetResult();
        };
        client.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is "RENEGOTIATING") renegotiating.TrySetResult();
        };
        client.Start();
        try
        {
            client.BeginOutputReadLine();
            client.BeginErrorReadLine();
            await connected.Task.WaitAsync(Bound);
            Assert.False(client.HasExited, "s_client ended before it could ask to renegotiate");

            // Standard input stays open: s_client would also end at its end.
            await client.StandardInput.WriteAsync("R\n");
            await client.StandardInput.FlushAsync();
            await renegotiating.Task.WaitAsync(Bound);

            await client.WaitForExitAsync().WaitAsync(Bound);
        }
        finally
        {
            if (!client.HasExited) client.Kill();
        }

        using var cancel = new CancellationTokenSource(Bound);
        await using var next = await RawWebSocketClient.OpenTunnelAsync(server.Port, TlsClients.Pinned(server.Certificate!), AttackedServer.UserPath, "smux_off", cancel.Token);
        await next.AssertEchoesThenClosesAsync("after a client asked to renegotiate", Bound);
    }
}
