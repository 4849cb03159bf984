using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Mtt.Core.Limits;

/// <summary>
/// Checks one limit field of an opt 1 entry as it arrived, so that a bad value is refused with a reason that
/// names the field: a count or size that is not a positive whole number in range, a time that is not RFC 3339.
/// Pure: text and numbers in, a value or a reason out.
/// </summary>
public static class LimitFieldReader
{
    /// <summary>A positive whole number up to <paramref name="max"/>; <paramref name="reason"/> says why not.</summary>
    public static bool TryPositive(string field, decimal? number, long max, out long value, [NotNullWhen(false)] out string? reason)
    {
        value = 0;
        reason = null;
        if (number is not { } n)
        {
            reason = $"{field} must be a number";
            return false;
        }
        if (n != decimal.Truncate(n))
        {
            reason = $"{field} must be a whole number";
            return false;
        }
        // Zero or less makes no sense for any limit: "no limit" is the field left out.
        if (n <= 0 || n > max)
        {
            reason = string.Create(CultureInfo.InvariantCulture, $"{field} must be between 1 and {max} (leave it out for no limit)");
            return false;
        }
        value = (long)n;
        return true;
    }

    /// <summary>An RFC 3339 date and time with its offset (<c>2026-12-31T23:59:59Z</c>).</summary>
    public static bool TryTime(string field, string? text, out DateTimeOffset value, [NotNullWhen(false)] out string? reason)
    {
        reason = null;
        // RFC 3339 section 5.6: a full date, 'T' (or 't'/space), a time and an offset; nothing looser is guessed at.
        if (text is not null && text.Length <= 64 &&
            DateTimeOffset.TryParseExact(text.Replace('t', 'T').Replace('z', 'Z'),
                ["yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd HH:mm:ssK", "yyyy-MM-dd HH:mm:ss.FFFFFFFK"],
                CultureInfo.InvariantCulture, DateTimeStyles.None, out value) &&
            (text.EndsWith('Z') || text.EndsWith('z') || text.Length >= 6 && text[^3] == ':' && text[^6] is '+' or '-'))
        {
            return true;
        }
        value = default;
        reason = $"{field} must be an RFC 3339 time such as 2026-12-31T23:59:59Z";
        return false;
    }
}
