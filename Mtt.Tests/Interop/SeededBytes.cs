using System.Security.Cryptography;

namespace Mtt.Tests.Interop;

/// <summary>
/// The byte stream the independent clients send: xorshift32 (Marsaglia 2003), the low byte of each step,
/// exactly as echo-session.mjs computes it, so the test knows the hash of what must come back.
/// </summary>
public sealed class SeededBytes
{
    private uint _state;

    public SeededBytes(uint seed) => _state = seed == 0 ? 1 : seed;

    public void Fill(Span<byte> destination)
    {
        uint x = _state;
        for (int i = 0; i < destination.Length; i++)
        {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            destination[i] = (byte)x;
        }
        _state = x;
    }

    /// <summary>Lower-case hex SHA-256 of the first <paramref name="count"/> bytes of <paramref name="seed"/>'s stream.</summary>
    public static string Sha256Hex(uint seed, int count)
    {
        var bytes = new byte[count];
        new SeededBytes(seed).Fill(bytes);
        return Convert.ToHexStringLower(SHA256.HashData(bytes));
    }
}
