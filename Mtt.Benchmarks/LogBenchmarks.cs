using BenchmarkDotNet.Attributes;
using Mtt.Core.Diagnostics;
using Mtt.Core.Relay;
using Mtt.Core.Transport;

namespace Mtt.Benchmarks;

/// <summary>
/// One typed event (a plain tunnel's close, seven fields) through <see cref="ServerLog"/> to a writer that keeps
/// nothing: with its level off (Debug without <c>-verbose</c>, the per-connection case), and written as a text
/// line, a journal line and a JSON line. Goal: an event that is off costs a level check and allocates nothing.
/// </summary>
[MemoryDiagnoser]
public class LogBenchmarks
{
    private static readonly BackendAddress Backend = new("127.0.0.1", 19000);
    private readonly ServerLog _quiet = new(TextWriter.Null, verbose: false);
    private readonly ServerLog _text = new(TextWriter.Null, verbose: true);
    private readonly ServerLog _journal = new(TextWriter.Null, verbose: true, journal: true);
    private readonly ServerLog _json = new(TextWriter.Null, verbose: true, LogFormat.Json);

    [Benchmark]
    public void DebugEventOff() =>
        RelayLog.TunnelClosed(_quiet, "203.0.113.7:51234", "acct-1001", TunnelEndReason.ClientClosed, "", "", 12.5, 1000, 2000);

    [Benchmark(Baseline = true)]
    public void TextLine() =>
        RelayLog.TunnelClosed(_text, "203.0.113.7:51234", "acct-1001", TunnelEndReason.ClientClosed, "", "", 12.5, 1000, 2000);

    [Benchmark]
    public void JournalLine() =>
        RelayLog.TunnelClosed(_journal, "203.0.113.7:51234", "acct-1001", TunnelEndReason.ClientClosed, "", "", 12.5, 1000, 2000);

    [Benchmark]
    public void JsonLine() =>
        RelayLog.TunnelClosed(_json, "203.0.113.7:51234", "acct-1001", TunnelEndReason.ClientClosed, "", "", 12.5, 1000, 2000);

    [Benchmark]
    public void BackendFailedTextLine() =>
        RelayLog.BackendFailed(_text, "203.0.113.7:51234", "acct-1001", Backend, "connection refused");
}
