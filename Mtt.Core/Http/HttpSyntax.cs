using System.Buffers;

namespace Mtt.Core.Http;

/// <summary>The byte classes of HTTP/1.1 syntax that the head parser checks, as vectorised sets.</summary>
internal static class HttpSyntax
{
    public const byte Space = (byte)' ';
    public const byte Tab = (byte)'\t';
    public const byte Cr = (byte)'\r';
    public const byte Lf = (byte)'\n';
    public const byte Colon = (byte)':';
    public const byte Comma = (byte)',';
    public const byte Question = (byte)'?';
    public const byte Slash = (byte)'/';

    /// <summary>tchar (RFC 9110 5.6.2): what a method, a header name and a list token are made of.</summary>
    public static readonly SearchValues<byte> TokenChars =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    /// <summary>
    /// Bytes never allowed in a field value (RFC 9110 5.5): controls other than HTAB, and DEL. CR and LF
    /// are in the set, so a bare CR inside a line is refused (RFC 9112 2.2). obs-text (0x80-0xFF) is allowed.
    /// </summary>
    public static readonly SearchValues<byte> InvalidFieldValueBytes = SearchValues.Create(
        [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F,
         0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F, 0x7F]);

    /// <summary>
    /// Bytes never allowed in a request target (RFC 9112 3.2, RFC 3986): controls, space and DEL. Bytes
    /// 0x80-0xFF pass here; a handler that decodes the path checks it is UTF-8.
    /// </summary>
    public static readonly SearchValues<byte> InvalidTargetBytes = SearchValues.Create(
        [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F,
         0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F,
         (byte)' ', 0x7F]);

    /// <summary>Bytes that make a Host value more than a host and port (RFC 9110 7.2): whitespace, lists, paths, userinfo.</summary>
    public static readonly SearchValues<byte> InvalidHostBytes = SearchValues.Create(" \t,/@"u8);

    public static bool IsOws(byte b) => b is Space or Tab;

    /// <summary>Counts the optional whitespace (SP / HTAB, RFC 9110 5.6.3) at the start of <paramref name="s"/>.</summary>
    public static int LeadingOws(ReadOnlySpan<byte> s)
    {
        int i = 0;
        while (i < s.Length && IsOws(s[i])) i++;
        return i;
    }

    /// <summary>Counts the optional whitespace at the end of <paramref name="s"/>.</summary>
    public static int TrailingOws(ReadOnlySpan<byte> s)
    {
        int i = 0;
        while (i < s.Length && IsOws(s[s.Length - 1 - i])) i++;
        return i;
    }

    public static ReadOnlySpan<byte> TrimOws(ReadOnlySpan<byte> s)
    {
        int start = LeadingOws(s);
        return s.Slice(start, s.Length - start - TrailingOws(s[start..]));
    }
}
