using System.Net.WebSockets;
using Mtt.Tests.Daemon;
using Mtt.Tests.Support;

namespace Mtt.Tests.Packaging;

/// <summary>
/// The linux-arm64 release binary, from its tarball, run under qemu-user (Debian's qemu-user-static, with the arm64
/// multiarch libc, libstdc++ and OpenSSL) and serving a TLS tunnel byte-exact, as it would on an arm64 server.
/// </summary>
[Collection(ReleaseFilesCollection.Name)]
public sealed class Arm64EmulationTests(ReleaseFiles release)
{
    // Emulation makes start-up and TLS several times slower than native.
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);
    private const string Emulator = "/usr/bin/qemu-aarch64-static";

    [Fact]
    public async Task Arm64Binary_UnderEmulation_ServesATlsTunnelByteExact()
    {
        Assert.True(File.Exists(Emulator), $"{Emulator} is missing: run .ci/install-test-prerequisites.sh");
        using var unpacked = new TemporaryDirectory();
        var (untarred, untarOutput) = ReleaseFiles.Run("tar", ["-xzf", release.File($"mtt-mu-server-{release.Version}-linux-arm64.tar.gz"), "-C", unpacked.Path]);
        Assert.True(untarred == 0, untarOutput);
        string binary = Path.Combine(unpacked.Path, $"mtt-mu-server-{release.Version}-linux-arm64", "mtt-mu-server");
        // ELF e_machine 183: AArch64, so this is not the host's binary by mistake.
        byte[] header = File.ReadAllBytes(binary)[..20];
        Assert.Equal(183, BitConverter.ToUInt16(header, 18));

        await using var backend = new EchoBackend();
        await using var daemon = DaemonProcess.StartProgram(Emulator, binary, "-b", "127.0.0.1:0", "-c", "127.0.0.1:0", "-force-tls");
        var (tunnelPort, controllerPort) = await daemon.Ports.WaitAsync(Bound);
        await DaemonDrainTests.AddUserAsync(controllerPort, "/arm", backend.Address);

        using var client = new ClientWebSocket();
        client.Options.AddSubProtocol("smux_off");
        client.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        await client.ConnectAsync(new Uri($"wss://127.0.0.1:{tunnelPort}/arm"), CancellationToken.None).WaitAsync(Bound);

        var sent = new byte[256 * 1024];
        new Random(15).NextBytes(sent);
        var sending = client.SendAsync(sent, WebSocketMessageType.Binary, true, CancellationToken.None);
        var received = new byte[sent.Length];
        int total = 0;
        while (total < received.Length)
        {
            var result = await client.ReceiveAsync(received.AsMemory(total), CancellationToken.None).AsTask().WaitAsync(Bound);
            Assert.Equal(WebSocketMessageType.Binary, result.MessageType);
            total += result.Count;
        }
        await sending.WaitAsync(Bound);
        Assert.Equal(sent, received);

        await daemon.TerminateAsync();
        Assert.Equal(0, await daemon.WaitForExitAsync(Bound));
    }
}
