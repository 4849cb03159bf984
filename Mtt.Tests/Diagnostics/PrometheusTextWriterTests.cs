using Mtt.Core.Diagnostics;

namespace Mtt.Tests.Diagnostics;

public sealed class PrometheusTextWriterTests
{
    [Fact]
    public void WritesHelpTypeAndSamples_InTheTextFormat()
    {
        var w = new PrometheusTextWriter();
        w.Family("mtt_x_total", "counter", "Things.");
        w.Sample("mtt_x_total", 42);
        w.Sample("mtt_x_total", [("opt", "1"), ("result", "ok")], 7);
        w.Family("mtt_y", "gauge", "A gauge.");
        w.Sample("mtt_y", "user", "a", 1.5);
        Assert.Equal(
            "# HELP mtt_x_total Things.\n# TYPE mtt_x_total counter\nmtt_x_total 42\nmtt_x_total{opt=\"1\",result=\"ok\"} 7\n" +
            "# HELP mtt_y A gauge.\n# TYPE mtt_y gauge\nmtt_y{user=\"a\"} 1.5\n",
            w.ToString());
    }

    [Fact]
    public void EscapesLabelValuesAndHelp_AsTheFormatRequires()
    {
        var w = new PrometheusTextWriter();
        w.Family("m", "gauge", "back\\slash\nnewline \"quotes\" stay");
        w.Sample("m", "l", "a\\b\"c\nd é", 0);
        Assert.Equal("# HELP m back\\\\slash\\nnewline \"quotes\" stay\n# TYPE m gauge\nm{l=\"a\\\\b\\\"c\\nd é\"} 0\n", w.ToString());
    }

    [Theory]
    [InlineData(1e20, "1E+20")]
    [InlineData(-3, "-3")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(1732550000.123, "1732550000.123")]
    public void FormatsValues_AsGoParseFloatReadsThem(double value, string expected)
    {
        var w = new PrometheusTextWriter();
        w.Sample("m", value);
        Assert.Equal($"m {expected}\n", w.ToString());
    }

    [Theory]
    [InlineData("9lives")]
    [InlineData("has-dash")]
    [InlineData("")]
    public void RefusesInvalidNames(string name)
    {
        var w = new PrometheusTextWriter();
        Assert.Throws<ArgumentException>(() => w.Sample(name, 1));
        Assert.Throws<ArgumentException>(() => w.Sample("m", name, "v", 1));
    }
}
