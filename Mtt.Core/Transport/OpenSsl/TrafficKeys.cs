using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Mtt.Core.Transport.OpenSsl;

/// <summary>HKDF-Expand-Label (RFC 8446 section 7.1), with an empty context: what derives a record key, its IV and the next traffic secret.</summary>
internal static class TrafficKeys
{
    private static ReadOnlySpan<byte> LabelPrefix => "tls13 "u8;

    public static void ExpandLabel(CipherSuite suite, ReadOnlySpan<byte> secret, ReadOnlySpan<byte> label, Span<byte> output)
    {
        // struct { uint16 length; opaque label<7..255> = "tls13 " + Label; opaque context<0..255> = ""; } HkdfLabel
        Span<byte> info = stackalloc byte[2 + 1 + 6 + label.Length + 1];
        BinaryPrimitives.WriteUInt16BigEndian(info, (ushort)output.Length);
        info[2] = (byte)(LabelPrefix.Length + label.Length);
        LabelPrefix.CopyTo(info[3..]);
        label.CopyTo(info[(3 + LabelPrefix.Length)..]);
        info[^1] = 0;
        HKDF.Expand(suite.Hash, secret, output, info);
    }
}
