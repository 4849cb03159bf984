using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Mtt.Core.WebSockets;

/// <summary>The client-to-server payload mask (RFC 6455 section 5.3): XOR with a 4-byte key, in place.</summary>
public static class Masking
{
    /// <summary>
    /// XORs <paramref name="data"/> in place with the mask key, starting at byte <paramref name="offset"/>
    /// (0..3) of the key, and returns the key offset for the byte after the last one, so a payload
    /// that arrives in pieces can be unmasked piece by piece.
    /// </summary>
    /// <param name="maskKey">The 4 key bytes in wire order, read little-endian into an int.</param>
    public static int Apply(Span<byte> data, int maskKey, int offset)
    {
        if ((uint)offset > 3) ThrowOffsetOutOfRange(offset);
        int next = (offset + data.Length) & 3;

        ref byte start = ref MemoryMarshal.GetReference(data);
        nuint length = (nuint)data.Length;
        nuint i = 0;

        // Rotate the key so that its first byte lines up with data[0]; every wider step below is a
        // multiple of 4 bytes long, so the alignment then holds for the whole run.
        uint key32 = BitOperations.RotateRight((uint)maskKey, offset * 8);
        if (!BitConverter.IsLittleEndian) key32 = BinaryPrimitives.ReverseEndianness(key32);
        ulong key64 = key32 | ((ulong)key32 << 32);

        if (Vector512.IsHardwareAccelerated && length >= (nuint)Vector512<byte>.Count)
        {
            Vector512<byte> mask = Vector512.Create(key64).AsByte();
            nuint last = length - (nuint)Vector512<byte>.Count;
            for (; i <= last; i += (nuint)Vector512<byte>.Count)
                (Vector512.LoadUnsafe(ref start, i) ^ mask).StoreUnsafe(ref start, i);
        }

        if (Vector256.IsHardwareAccelerated && length - i >= (nuint)Vector256<byte>.Count)
        {
            Vector256<byte> mask = Vector256.Create(key64).AsByte();
            nuint last = length - (nuint)Vector256<byte>.Count;
            for (; i <= last; i += (nuint)Vector256<byte>.Count)
                (Vector256.LoadUnsafe(ref start, i) ^ mask).StoreUnsafe(ref start, i);
        }

        if (Vector128.IsHardwareAccelerated && length - i >= (nuint)Vector128<byte>.Count)
        {
            Vector128<byte> mask = Vector128.Create(key64).AsByte();
            nuint last = length - (nuint)Vector128<byte>.Count;
            for (; i <= last; i += (nuint)Vector128<byte>.Count)
                (Vector128.LoadUnsafe(ref start, i) ^ mask).StoreUnsafe(ref start, i);
        }

        for (; length - i >= sizeof(ulong); i += sizeof(ulong))
        {
            ref byte at = ref Unsafe.Add(ref start, i);
            Unsafe.WriteUnaligned(ref at, Unsafe.ReadUnaligned<ulong>(ref at) ^ key64);
        }

        if (length - i >= sizeof(uint))
        {
            ref byte at = ref Unsafe.Add(ref start, i);
            Unsafe.WriteUnaligned(ref at, Unsafe.ReadUnaligned<uint>(ref at) ^ key32);
            i += sizeof(uint);
        }

        // At most 3 bytes remain, and the key is still aligned with data[i].
        for (int k = 0; i < length; i++, k++)
            Unsafe.Add(ref start, i) ^= (byte)((uint)maskKey >> (((offset + k) & 3) * 8));

        return next;
    }

    private static void ThrowOffsetOutOfRange(int offset) =>
        throw new ArgumentOutOfRangeException(nameof(offset), offset, "The mask key offset must be 0..3.");
}
