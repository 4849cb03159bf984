using System.Diagnostics;

namespace Mtt.Tests.Support;

/// <summary>
/// OpenSSL's own client (`openssl s_client`) against a loopback port, its standard streams redirected so that a test
/// types its commands (R to renegotiate, k/K to update keys) and reads what it prints. Not started: the caller hooks
/// its output first.
/// </summary>
public static class OpenSslClientProcess
{
    public static Process Create(int port, params string[] options)
    {
        var info = new ProcessStartInfo("openssl")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in (string[])["s_client", "-connect", $"127.0.0.1:{port}", "-servername", "localhost", .. options])
            info.ArgumentList.Add(argument);
        return new Process { StartInfo = info };
    }
}
