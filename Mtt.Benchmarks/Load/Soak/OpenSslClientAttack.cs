using System.Text;

namespace Mtt.Benchmarks.Load.Soak;

/// <summary>
/// Renegotiation and KeyUpdate storms through OpenSSL's own client, `openssl s_client`, driven by its command letters
/// on standard input: `R` asks a TLS 1.2 server to renegotiate, `K` sends a TLS 1.3 KeyUpdate that requests one back.
/// After the storm it sends the tunnel's upgrade head (with -crlf), so whether the connection survived shows as a 101;
/// a server that refuses renegotiation with an alert and closes is right too.
/// </summary>
internal static class OpenSslClientAttack
{
    public enum Outcome { Upgraded, Refused, LingeredConnecting, LingeredInStorm, LingeredForThe101, LingeredClosing }

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    public static async Task<(Outcome Outcome, int Commands)> RunAsync(int port, bool renegotiate, int commands, CancellationToken cancellationToken)
    {
        using var process = Mtt.Tests.Support.OpenSslClientProcess.Create(port, renegotiate ? "-tls1_2" : "-tls1_3", "-crlf", "-alpn", "http/1.1");
        var upgraded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int done = 0;
        int got101 = 0;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) { upgraded.TrySetResult(); connected.TrySetResult(); return; }
            if (e.Data.StartsWith("HTTP/1.1 101", StringComparison.Ordinal)) { Volatile.Write(ref got101, 1); upgraded.TrySetResult(); }
            if (e.Data.StartsWith("---", StringComparison.Ordinal)) connected.TrySetResult();
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is "RENEGOTIATING" or "KEYUPDATE") Interlocked.Increment(ref done);
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Bound);
        var phase = Outcome.LingeredConnecting;
        try
        {
            await connected.Task.WaitAsync(timeout.Token).ConfigureAwait(false);
            var input = process.StandardInput;
            string letter = renegotiate ? "R" : "K";
            phase = Outcome.LingeredInStorm;
            for (int i = 0; i < commands && !process.HasExited; i++)
            {
                await input.WriteAsync(letter + "\n").ConfigureAwait(false);
                await input.FlushAsync(timeout.Token).ConfigureAwait(false);
                // s_client reads a command only at the start of one read of its input: space them.
                await Task.Delay(2, timeout.Token).ConfigureAwait(false);
            }
            if (!process.HasExited)
            {
                await input.WriteAsync($"GET {TunnelServerTarget.UserPath} HTTP/1.1\nHost: localhost\nUpgrade: websocket\nConnection: Upgrade\n" +
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\nSec-WebSocket-Protocol: smux_off\n\n").ConfigureAwait(false);
                await input.FlushAsync(timeout.Token).ConfigureAwait(false);
                phase = Outcome.LingeredForThe101;
                await upgraded.Task.WaitAsync(timeout.Token).ConfigureAwait(false);
            }
            phase = Outcome.LingeredClosing;
            input.Close();
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // A closed pipe: the server ended the connection and s_client exited. Or the bound passed.
        }
        finally
        {
            if (!process.HasExited) process.Kill();
        }
        bool lingered = timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested;
        return (lingered ? phase : Volatile.Read(ref got101) == 1 ? Outcome.Upgraded : Outcome.Refused, Volatile.Read(ref done));
    }
}
