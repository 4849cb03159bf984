using Mtt.Tests.Support;

namespace Mtt.Tests.Daemon;

/// <summary>
/// The daemon runs socket completions inline (on the socket engine's threads) by default, as the runtime itself
/// reports it, and an operator's explicit <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=0</c> turns them off.
/// </summary>
public sealed class DaemonInlineCompletionsTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    [Fact]
    public async Task ByDefault_SocketCompletionsRunInline()
    {
        Assert.Null(Environment.GetEnvironmentVariable(Variable));
        await using var daemon = DaemonProcess.Start("-b", "127.0.0.1:0", "-c", "127.0.0.1:0", "-verbose");
        await daemon.Ports.WaitAsync(Bound);
        Assert.Contains($"DEBUG socket completions inline: on ({Variable}=1, the daemon's default)", daemon.Stderr);
    }

    [Theory]
    [InlineData("0", "off")]
    [InlineData("1", "on")]
    public async Task TheOperatorsSetting_IsRespected(string value, string expected)
    {
        await using var daemon = DaemonProcess.Start(new Dictionary<string, string> { [Variable] = value }, "-b", "127.0.0.1:0", "-c", "127.0.0.1:0", "-verbose");
        await daemon.Ports.WaitAsync(Bound);
        Assert.Contains($"DEBUG socket completions inline: {expected} ({Variable}={value}, set by the operator)", daemon.Stderr);
    }
}
