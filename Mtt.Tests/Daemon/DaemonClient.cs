using System.Net.Http;
using System.Net.WebSockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Mtt.Tests.Daemon;

/// <summary>What a user and an operator do to a running daemon: a command, a scrape, a fresh tunnel that echoes.</summary>
internal static partial class DaemonClient
{
    public static async Task<string> CommandAsync(HttpClient http, int controllerPort, string json)
    {
        using var reply = await http.PostAsync($"http://127.0.0.1:{controllerPort}", new StringContent(json, Encoding.UTF8, "application/x-www-form-urlencoded"));
        return await reply.Content.ReadAsStringAsync();
    }

    /// <summary>A counter's value in <c>GET /metrics</c> (0 when the series is absent).</summary>
    public static async Task<long> CounterAsync(HttpClient http, int controllerPort, string name)
    {
        string text = await http.GetStringAsync($"http://127.0.0.1:{controllerPort}/metrics");
        var match = Regex.Match(text, $@"(?m)^{Regex.Escape(name)} (\d+)$");
        return match.Success ? long.Parse(match.Groups[1].Value) : 0;
    }

    /// <summary>Opens a new tunnel to <paramref name="path"/>, echoes <paramref name="size"/> bytes through it and closes it.</summary>
    public static async Task EchoThroughNewTunnelAsync(int tunnelPort, string path, int size, CancellationToken cancellationToken)
    {
        using var client = new ClientWebSocket();
        client.Options.AddSubProtocol("smux_off");
        await client.ConnectAsync(new Uri($"ws://127.0.0.1:{tunnelPort}{path}"), cancellationToken);
        var sent = new byte[size];
        Random.Shared.NextBytes(sent);
        await client.SendAsync(sent, WebSocketMessageType.Binary, true, cancellationToken);
        var received = new byte[size];
        int count = 0;
        while (count < size) count += (await client.ReceiveAsync(received.AsMemory(count), cancellationToken)).Count;
        Assert.Equal(sent, received);
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, cancellationToken);
    }
}
