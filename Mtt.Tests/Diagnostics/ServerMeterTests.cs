using System.Diagnostics.Metrics;
using System.Net.WebSockets;
using Mtt.Core.Diagnostics;
using Mtt.Tests.Support;

namespace Mtt.Tests.Diagnostics;

/// <summary>
/// The <c>mtt-mu-server</c> meter as a collector (dotnet-counters, OpenTelemetry) reads it: a <see cref="MeterListener"/>
/// in the process, after real tunnels, a refusal and commands; and /metrics showing exactly its instruments.
/// </summary>
public sealed class ServerMeterTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task AMeterListener_ReadsTunnelsBytesRefusalsCommandsAndUsers()
    {
        await using var backend = new EchoBackend();
        await using var server = ServerWithController.Start(perUser: true);
        await server.CommandAsync($$"""{"opt":1,"args_bunch":[{"path":"/secret-m","dst":"{{backend.Address}}","name":"acct-9"}]}""");
        await EchoAsync(server.TunnelPort, "/secret-m", 321);
        await using (var prober = await RawWebSocketClient.ConnectAsync(server.TunnelPort))
            Assert.Equal(404, (await prober.UpgradeAsync("/nobody").WaitAsync(Bound)).Status);
        await server.AllTunnelsEndedAsync();

        var read = ReadMeter(server.Metrics);

        Assert.Equal(1, read[("mtt.users", "")]);
        Assert.Equal(1, read[("mtt.tunnels.opened", "")]);
        Assert.Equal(0, read[("mtt.tunnels.active", "")]);
        Assert.Equal(321, read[("mtt.bytes.from_client", "")]);
        Assert.Equal(321, read[("mtt.bytes.to_client", "")]);
        Assert.Equal(1, read[("mtt.handshakes.refused", "reason=no_user")]);
        Assert.Equal(0, read[("mtt.handshakes.refused", "reason=tls_failed")]);
        Assert.Equal(1, read[("mtt.controller.commands", "opt=1,result=ok")]);
        Assert.Equal(321, read[("mtt.user.bytes.from_client", "user=acct-9")]);
        Assert.Equal(1, read[("mtt.user.tunnels.opened", "user=acct-9")]);
        Assert.True(read[("mtt.user.last_activity", "user=acct-9")] > 1.7e9);
        // A path is a secret: never a tag value.
        Assert.DoesNotContain(read.Keys, key => key.Tags.Contains("secret", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Metrics_ShowsEveryInstrumentOfTheMeter_UnderItsPrometheusName_AndTheRuntimesMemory()
    {
        await using var server = ServerWithController.Start(perUser: true);
        var instruments = InstrumentsOf(server.Metrics);
        Assert.Equal(19, instruments.Count);

        string text = await server.ScrapeAsync();

        foreach (var (name, unit, counter) in instruments)
            Assert.Contains($"\n# TYPE {PrometheusName.For(name, unit, counter)} {(counter ? "counter" : "gauge")}\n", "\n" + text);
        Assert.Matches("\ndotnet_process_memory_working_set_bytes [1-9][0-9]*\n", text);
        Assert.Contains("\ndotnet_gc_last_collection_heap_size_bytes{gc_heap_generation=\"gen0\"} ", text);
    }

    [Fact]
    public async Task WithoutPerUserMetrics_TheMeterHasNoPerUserInstruments()
    {
        await using var server = ServerWithController.Start(perUser: false);
        var instruments = InstrumentsOf(server.Metrics);
        Assert.Equal(11, instruments.Count);
        Assert.DoesNotContain(instruments, i => i.Name.StartsWith("mtt.user.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DisposingTheServer_EndsItsMeter()
    {
        var server = ServerWithController.Start();
        var completed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (IsOf(instrument, server.Metrics)) l.EnableMeasurementEvents(instrument);
        };
        listener.MeasurementsCompleted = (instrument, _) =>
        {
            if (instrument.Name == "mtt.users") completed.TrySetResult();
        };
        listener.Start();

        await server.DisposeAsync();

        await completed.Task.WaitAsync(Bound);
    }

    private static bool IsOf(Instrument instrument, ServerMetrics metrics) =>
        instrument.Meter.Name == ServerMeter.Name && ReferenceEquals(instrument.Meter.Scope, metrics);

    private static List<(string Name, string? Unit, bool Counter)> InstrumentsOf(ServerMetrics metrics)
    {
        var found = new List<(string, string?, bool)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, _) =>
        {
            if (IsOf(instrument, metrics))
                found.Add((instrument.Name, instrument.Unit, instrument is ObservableCounter<long> or ObservableCounter<double>));
        };
        listener.Start();
        return found;
    }

    /// <summary>Every measurement of the server's meter now, keyed by instrument and its tags as <c>k=v,k=v</c>.</summary>
    private static Dictionary<(string Name, string Tags), double> ReadMeter(ServerMetrics metrics)
    {
        var read = new Dictionary<(string, string), double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (IsOf(instrument, metrics)) l.EnableMeasurementEvents(instrument);
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var text = new List<string>();
            foreach (var tag in tags) text.Add($"{tag.Key}={tag.Value}");
            read[(instrument.Name, string.Join(",", text))] = value;
        }
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.Start();
        listener.RecordObservableInstruments();
        return read;
    }

    private static async Task EchoAsync(int tunnelPort, string path, int bytes)
    {
        using var client = new ClientWebSocket();
        client.Options.AddSubProtocol("smux_off");
        await client.ConnectAsync(new Uri($"ws://127.0.0.1:{tunnelPort}{path}"), CancellationToken.None).WaitAsync(Bound);
        await client.SendAsync(new byte[bytes], WebSocketMessageType.Binary, true, CancellationToken.None).WaitAsync(Bound);
        var buffer = new byte[bytes];
        int received = 0;
        while (received < bytes) received += (await client.ReceiveAsync(buffer.AsMemory(received), CancellationToken.None).AsTask().WaitAsync(Bound)).Count;
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).WaitAsync(Bound);
    }
}
