using System.Diagnostics.Metrics;
using System.Globalization;

namespace Mtt.Core.Diagnostics;

/// <summary>
/// The body of <c>GET /metrics</c>: the observable instruments of one <see cref="ServerMeter"/> and of .NET's own
/// <c>System.Runtime</c> meter (memory, GC, thread pool, CPU), read through a <see cref="MeterListener"/> at each
/// scrape and written as Prometheus text. The meter is the one source of truth: what a scrape shows is what
/// <c>dotnet-counters</c> or an OpenTelemetry collector reads, under the names of <see cref="PrometheusName"/>.
/// </summary>
/// <remarks>
/// Written by hand rather than with OpenTelemetry's Prometheus exporter: that brings the OpenTelemetry SDK and an
/// HTTP listener of its own (or ASP.NET Core), where this server answers on the controller's listener with its
/// token rules; what is used of the format is a few escaping rules (<see cref="PrometheusTextWriter"/>).
/// </remarks>
internal sealed class PrometheusExposition : IDisposable
{
    /// <summary>.NET's built-in meter (since .NET 9): process memory, GC heap, CPU time, thread pool.</summary>
    public const string RuntimeMeterName = "System.Runtime";

    private readonly Meter _meter;
    private readonly MeterListener _listener = new();
    // Instruments in the order they were published, this server's meter first; the list lock is never held
    // while calling into the listener, so it cannot deadlock with an instrument being published.
    private readonly List<Instrument> _instruments = [];
    private readonly Lock _instrumentsLock = new();
    // One scrape at a time: measurements arrive through the listener's callbacks, on the scraping thread.
    private readonly Lock _renderLock = new();
    private Dictionary<Instrument, List<Sample>>? _collecting;

    public PrometheusExposition(ServerMeter meter)
    {
        _meter = meter.Meter;
        _listener.InstrumentPublished = OnInstrumentPublished;
        _listener.MeasurementsCompleted = (instrument, _) =>
        {
            lock (_instrumentsLock) _instruments.Remove(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Collect(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Collect(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Collect(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Reads every instrument now and returns the exposition as UTF-8.</summary>
    public byte[] Render()
    {
        lock (_renderLock)
        {
            var samples = new Dictionary<Instrument, List<Sample>>();
            _collecting = samples;
            try
            {
                _listener.RecordObservableInstruments();
            }
            finally
            {
                _collecting = null;
            }

            Instrument[] instruments;
            lock (_instrumentsLock) instruments = [.. _instruments];
            var w = new PrometheusTextWriter();
            foreach (var instrument in instruments)
            {
                bool counter = IsCounter(instrument);
                string name = PrometheusName.For(instrument.Name, instrument.Unit, counter);
                w.Family(name, counter ? "counter" : "gauge", instrument.Description ?? "");
                if (!samples.TryGetValue(instrument, out var list)) continue;
                foreach (var sample in list) w.Sample(name, sample.Labels, sample.Value);
            }
            return w.ToUtf8();
        }
    }

    public void Dispose() => _listener.Dispose();

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        // Observable instruments only: their measurements come when a scrape asks, never from a hot path.
        if (!instrument.IsObservable) return;
        bool ours = ReferenceEquals(instrument.Meter, _meter);
        if (!ours && instrument.Meter.Name != RuntimeMeterName) return;
        lock (_instrumentsLock)
        {
            if (ours)
            {
                int firstOther = _instruments.FindIndex(i => !ReferenceEquals(i.Meter, _meter));
                _instruments.Insert(firstOther < 0 ? _instruments.Count : firstOther, instrument);
            }
            else _instruments.Add(instrument);
        }
        listener.EnableMeasurementEvents(instrument);
    }

    private void Collect(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        // Only a scrape's own RecordObservableInstruments produces measurements for this listener.
        if (_collecting is not { } samples) return;
        var labels = new (string Name, string Value)[tags.Length];
        for (int i = 0; i < tags.Length; i++)
            labels[i] = (PrometheusName.Label(tags[i].Key), Convert.ToString(tags[i].Value, CultureInfo.InvariantCulture) ?? "");
        if (!samples.TryGetValue(instrument, out var list)) samples[instrument] = list = [];
        list.Add(new Sample(labels, value));
    }

    private static bool IsCounter(Instrument instrument) =>
        instrument is ObservableCounter<long> or ObservableCounter<int> or ObservableCounter<double>;

    private readonly record struct Sample((string Name, string Value)[] Labels, double Value);
}
