using System.Text;
using Mtt.Core.WebSockets;

namespace Mtt.Tests.Support;

/// <summary>What the tests assert through a <see cref="RawWebSocketClient"/>; apart from it, as the load harness compiles the client without xUnit.</summary>
public static class RawWebSocketClientAssertions
{
    /// <summary>On an upgraded tunnel to an echo backend: sends <paramref name="text"/>, asserts it comes back byte-exact as binary frames, then closes with 1000 and asserts the server answers 1000.</summary>
    public static async Task AssertEchoesThenClosesAsync(this RawWebSocketClient client, string text, TimeSpan bound)
    {
        byte[] payload = Encoding.ASCII.GetBytes(text);
        await client.SendBinaryAsync(payload).WaitAsync(bound);
        var echoed = new MemoryStream();
        while (echoed.Length < payload.Length)
        {
            var frame = await client.ReadFrameAsync().WaitAsync(bound);
            Assert.True(frame is { Opcode: (byte)WebSocketOpcode.Binary }, "expected the echo as binary frames");
            echoed.Write(frame!.Value.Payload);
        }
        Assert.Equal(payload, echoed.ToArray());
        await client.SendCloseAsync(WebSocketCloseCodes.NormalClosure).WaitAsync(bound);
        Assert.Equal(WebSocketCloseCodes.NormalClosure, await client.ReadUntilCloseAsync().WaitAsync(bound));
    }
}
