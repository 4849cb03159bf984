using System.Globalization;
using System.Text;

namespace Mtt.Daemon;

/// <summary>
/// Durations written the way Go's <c>time.ParseDuration</c> reads them and <c>Duration.String</c> writes them
/// (<c>300ms</c>, <c>1.5h</c>, <c>1h2m3s</c>, <c>1m0s</c>), so the operators' existing <c>-timeout</c> values keep working.
/// </summary>
/// <remarks>
/// Go counts whole nanoseconds in an int64; <see cref="TimeSpan"/> counts 100 ns ticks, so a parsed value is
/// truncated toward zero to whole ticks ("150ns" is 100 ns). The range check is Go's: beyond about 292 years is
/// an error, as it is there.
/// </remarks>
public static class GoDuration
{
    private const ulong Nanosecond = 1;
    private const ulong Microsecond = 1000 * Nanosecond;
    private const ulong Millisecond = 1000 * Microsecond;
    private const ulong Second = 1000 * Millisecond;
    private const ulong Minute = 60 * Second;
    private const ulong Hour = 60 * Minute;
    private const ulong NanosecondsPerTick = 100;

    // Go's int64 nanoseconds: a negative duration may reach 2^63, a positive one 2^63 - 1.
    private const ulong MaxMagnitude = 1UL << 63;

    /// <summary>Parses Go's syntax <c>[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+</c>, or a bare <c>0</c>.</summary>
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (text is null) return false;
        ReadOnlySpan<char> s = text;

        bool negative = false;
        if (s.Length > 0 && s[0] is '-' or '+')
        {
            negative = s[0] == '-';
            s = s[1..];
        }
        if (s is "0") return true;
        if (s.IsEmpty) return false;

        ulong total = 0;
        while (!s.IsEmpty)
        {
            if (!(s[0] == '.' || IsDigit(s[0]))) return false;

            int before = s.Length;
            if (!TryLeadingInt(ref s, out ulong whole)) return false;
            bool hasWhole = s.Length != before;

            ulong fraction = 0;
            double scale = 1;
            bool hasFraction = false;
            if (!s.IsEmpty && s[0] == '.')
            {
                s = s[1..];
                before = s.Length;
                LeadingFraction(ref s, out fraction, out scale);
                hasFraction = s.Length != before;
            }
            if (!hasWhole && !hasFraction) return false; // "." or ".s"

            int unitLength = 0;
            while (unitLength < s.Length && !(s[unitLength] == '.' || IsDigit(s[unitLength]))) unitLength++;
            if (unitLength == 0) return false; // a number needs a unit, except the bare "0" above
            if (!TryUnit(s[..unitLength], out ulong unit)) return false;
            s = s[unitLength..];

            if (whole > MaxMagnitude / unit) return false;
            whole *= unit;
            if (fraction > 0)
            {
                // Go does this in float64 too, so "1.1s" lands on the same nanosecond count.
                whole += (ulong)(fraction * (unit / scale));
                if (whole > MaxMagnitude) return false;
            }
            total += whole;
            if (total > MaxMagnitude) return false;
        }

        if (!negative && total > MaxMagnitude - 1) return false;
        long ticks = (long)(total / NanosecondsPerTick);
        value = TimeSpan.FromTicks(negative ? -ticks : ticks);
        return true;
    }

    /// <summary>Writes <paramref name="value"/> as Go's <c>Duration.String</c> does: "1m0s", "1.5s", "300ms", "0s".</summary>
    public static string Format(TimeSpan value)
    {
        long ticks = value.Ticks;
        bool negative = ticks < 0;
        // UInt128: TimeSpan's range in nanoseconds is wider than 64 bits.
        UInt128 u = (UInt128)(negative ? -(Int128)ticks : ticks) * NanosecondsPerTick;
        if (u == 0) return "0s";

        var text = new StringBuilder(32);
        if (u < Second)
        {
            // Below a second Go picks the largest unit that keeps a non-zero integer part.
            if (u < Microsecond) text.Append(u.ToString(CultureInfo.InvariantCulture)).Append("ns");
            else if (u < Millisecond) AppendFraction(text, u, 3).Append("µs");
            else AppendFraction(text, u, 6).Append("ms");
        }
        else
        {
            UInt128 seconds = u / Second;
            UInt128 nanos = u % Second;
            UInt128 minutes = seconds / 60;
            UInt128 hours = minutes / 60;
            if (hours > 0) text.Append(hours.ToString(CultureInfo.InvariantCulture)).Append('h');
            if (minutes > 0) text.Append((minutes % 60).ToString(CultureInfo.InvariantCulture)).Append('m');
            AppendFraction(text, (seconds % 60) * Second + nanos, 9).Append('s');
        }
        return negative ? "-" + text : text.ToString();
    }

    // Writes v / 10^digits with the fraction's trailing zeros (and a bare '.') dropped, as Go's fmtFrac does.
    private static StringBuilder AppendFraction(StringBuilder text, UInt128 v, int digits)
    {
        UInt128 divisor = 1;
        for (int i = 0; i < digits; i++) divisor *= 10;
        text.Append((v / divisor).ToString(CultureInfo.InvariantCulture));
        string fraction = (v % divisor).ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0').TrimEnd('0');
        if (fraction.Length > 0) text.Append('.').Append(fraction);
        return text;
    }

    private static bool TryLeadingInt(ref ReadOnlySpan<char> s, out ulong value)
    {
        value = 0;
        int i = 0;
        for (; i < s.Length && IsDigit(s[i]); i++)
        {
            if (value > MaxMagnitude / 10) return false;
            value = value * 10 + (ulong)(s[i] - '0');
            if (value > MaxMagnitude) return false;
        }
        s = s[i..];
        return true;
    }

    // Digits past what fits are read and ignored, as Go does: they cannot change the nanosecond count.
    private static void LeadingFraction(ref ReadOnlySpan<char> s, out ulong value, out double scale)
    {
        value = 0;
        scale = 1;
        bool overflowed = false;
        int i = 0;
        for (; i < s.Length && IsDigit(s[i]); i++)
        {
            if (overflowed) continue;
            if (value > (MaxMagnitude - 1) / 10) { overflowed = true; continue; }
            ulong next = value * 10 + (ulong)(s[i] - '0');
            if (next > MaxMagnitude) { overflowed = true; continue; }
            value = next;
            scale *= 10;
        }
        s = s[i..];
    }

    private static bool TryUnit(ReadOnlySpan<char> unit, out ulong nanoseconds)
    {
        nanoseconds = unit switch
        {
            "ns" => Nanosecond,
            "us" or "µs" or "μs" => Microsecond, // U+00B5 micro sign and U+03BC Greek mu, as Go accepts both
            "ms" => Millisecond,
            "s" => Second,
            "m" => Minute,
            "h" => Hour,
            _ => 0,
        };
        return nanoseconds != 0;
    }

    private static bool IsDigit(char c) => c is >= '0' and <= '9';
}
