using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Mtt.Core.WebSockets;

/// <summary>The client-to-server payload mask (RFC 6455 section 5.3): XOR with a 4-byte key, in place or while copying.</summary>
public static class Masking
{
    /// <summary>
    /// XORs <paramref name="data"/> in place with the mask key, starting at byte <paramref name="offset"/>
    /// (0..3) of the key, and returns the key offset for the byte after the last one, so a payload
    /// that arrives in pieces can be unmasked piece by piece.
    /// </summary>
    /// <param name="maskKey">The 4 key bytes in wire order, read little-endian into an int.</param>
    public static int Apply(Span<byte> data, int maskKey, int offset) => Apply(data, data, maskKey, offset);

    /// <summary>
    /// Writes <paramref name="source"/> XORed with the mask key into <paramref name="destination"/> (at least as
    /// long): a copy and an unmask in one pass over the bytes, where a copy followed by an unmask in place reads and
    /// writes them twice. <paramref name="source"/> may be <paramref name="destination"/> itself, but must not
    /// overlap it otherwise. Offsets as in <see cref="Apply(Span{byte}, int, int)"/>.
    /// </summary>
    public static int Apply(ReadOnlySpan<byte> source, Span<byte> destination, int maskKey, int offset)
    {
        if ((uint)offset > 3) ThrowOffsetOutOfRange(offset);
        if (destination.Length < source.Length) ThrowDestinationTooShort();
        int next = (offset + source.Length) & 3;

        ref byte from = ref MemoryMarshal.GetReference(source);
        ref byte to = ref MemoryMarshal.GetReference(destination);
        nuint length = (nuint)source.Length;
        nuint i = 0;

        // Rotate the key so that its first byte lines up with source[0]; every wider step below is a
        // multiple of 4 bytes long, so the alignment then holds for the whole run.
        uint key32 = BitOperations.RotateRight((uint)maskKey, offset * 8);
        if (!BitConverter.IsLittleEndian) key32 = BinaryPrimitives.ReverseEndianness(key32);
        ulong key64 = key32 | ((ulong)key32 << 32);

        if (Vector512.IsHardwareAccelerated && length >= (nuint)Vector512<byte>.Count)
        {
            Vector512<byte> mask = Vector512.Create(key64).AsByte();
            nuint last = length - (nuint)Vector512<byte>.Count;
            for (; i <= last; i += (nuint)Vector512<byte>.Count)
                (Vector512.LoadUnsafe(ref from, i) ^ mask).StoreUnsafe(ref to, i);
        }

        if (Vector256.IsHardwareAccelerated && length - i >= (nuint)Vector256<byte>.Count)
        {
            Vector256<byte> mask = Vector256.Create(key64).AsByte();
            nuint last = length - (nuint)Vector256<byte>.Count;
            for (; i <= last; i += (nuint)Vector256<byte>.Count)
                (Vector256.LoadUnsafe(ref from, i) ^ mask).StoreUnsafe(ref to, i);
        }

        if (Vector128.IsHardwareAccelerated && length - i >= (nuint)Vector128<byte>.Count)
        {
            Vector128<byte> mask = Vector128.Create(key64).AsByte();
            nuint last = length - (nuint)Vector128<byte>.Count;
            for (; i <= last; i += (nuint)Vector128<byte>.Count)
                (Vector128.LoadUnsafe(ref from, i) ^ mask).StoreUnsafe(ref to, i);
        }

        for (; length - i >= sizeof(ulong); i += sizeof(ulong))
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref to, i), Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref from, i)) ^ key64);

        if (length - i >= sizeof(uint))
        {
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref to, i), Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref from, i)) ^ key32);
            i += sizeof(uint);
        }

        // At most 3 bytes remain, and the key is still aligned with source[i].
        for (int k = 0; i < length; i++, k++)
            Unsafe.Add(ref to, i) = (byte)(Unsafe.Add(ref from, i) ^ (byte)((uint)maskKey >> (((offset + k) & 3) * 8)));

        return next;
    }

    private static void ThrowDestinationTooShort() =>
        throw new ArgumentException("The destination is shorter than the source.", "destination");

    private static void ThrowOffsetOutOfRange(int offset) =>
        throw new ArgumentOutOfRangeException(nameof(offset), offset, "The mask key offset must be 0..3.");
}
