using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Mtt.Core.Control.Http;

/// <summary>
/// The shared secret a controller request must carry as <c>Authorization: Bearer TOKEN</c> (RFC 6750 section 2.1),
/// compared in constant time so that response timing does not reveal how much of a guess was right.
/// </summary>
public sealed class ControllerToken
{
    // RFC 6750 section 2.1 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
    private static readonly SearchValues<char> TokenCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/");

    private const string Scheme = "Bearer";

    /// <summary>Far beyond any generated secret (base64 of 32 bytes is 44 characters); bounds the comparison buffer.</summary>
    public const int MaxLength = 1024;

    private readonly byte[] _expected;

    public ControllerToken(string token)
    {
        if (!IsValid(token)) throw new ArgumentException($"a bearer token is 1 to {MaxLength} of A-Z a-z 0-9 - . _ ~ + / followed by any '='", nameof(token));
        _expected = Encoding.UTF8.GetBytes(token);
    }

    /// <summary>Whether <paramref name="token"/> can be sent in an Authorization header as RFC 6750 writes it.</summary>
    public static bool IsValid(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > MaxLength) return false;
        ReadOnlySpan<char> body = token.AsSpan().TrimEnd('=');
        return !body.IsEmpty && !body.ContainsAnyExcept(TokenCharacters);
    }

    /// <summary>Whether the Authorization header's value (null when absent) carries this token.</summary>
    internal bool Admits(string? authorization)
    {
        if (authorization is null) return false;
        ReadOnlySpan<char> value = authorization.AsSpan().Trim(' ');
        // RFC 9110 section 11.1: the scheme is case-insensitive; one or more spaces before the credentials.
        if (value.Length <= Scheme.Length || !value.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) || value[Scheme.Length] != ' ')
            return false;
        ReadOnlySpan<char> presented = value[(Scheme.Length + 1)..].TrimStart(' ');
        // Only the length of the token can leak (FixedTimeEquals returns early on a length mismatch).
        if (presented.Length > MaxLength) return false;
        Span<byte> bytes = stackalloc byte[Encoding.UTF8.GetMaxByteCount(MaxLength)];
        int written = Encoding.UTF8.GetBytes(presented, bytes);
        return CryptographicOperations.FixedTimeEquals(bytes[..written], _expected);
    }
}
