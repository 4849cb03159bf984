using System.Buffers.Binary;

namespace Mtt.Tests.Hardening.Fuzzing;

/// <summary>
/// Seeded mutations of valid inputs: bit flips, interesting bytes, inserts, deletes, duplicated
/// ranges, splices with another corpus entry, length fields set to extremes, truncation. The same
/// random source always gives the same mutant, so any failure is reproducible from its seed.
/// </summary>
public sealed class MutationFuzzer(IReadOnlyList<byte[]> corpus, Random random)
{
    // Enough stacked mutations to reach odd corners, few enough that the input stays mostly valid.
    private const int MaxMutationsPerInput = 6;

    // Inputs stay small: the parsers' bounds are tested by claims, not by sending megabytes.
    private const int MaxInputBytes = 20 * 1024;

    private static readonly byte[] InterestingBytes = [0x00, 0x01, 0x7E, 0x7F, 0x80, 0xFF, (byte)'\r', (byte)'\n', (byte)' ', (byte)':', (byte)',', (byte)'"', (byte)'0', (byte)'9', (byte)'f', (byte)'{', (byte)'['];

    private static readonly ulong[] ExtremeValues = [0, 1, 125, 126, 127, 0x7FFF, 0x8000, 0xFFFF, 0x1_0000, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, ulong.MaxValue];

    public byte[] Next()
    {
        var data = new List<byte>(corpus[random.Next(corpus.Count)]);
        int mutations = 1 + random.Next(MaxMutationsPerInput);
        for (int i = 0; i < mutations; i++) Mutate(data);
        if (data.Count > MaxInputBytes) data.RemoveRange(MaxInputBytes, data.Count - MaxInputBytes);
        return [.. data];
    }

    /// <summary>A number in [0, <paramref name="maxExclusive"/>) from the same seeded source, for a test's own choices.</summary>
    public int Choose(int maxExclusive) => random.Next(maxExclusive);

    /// <summary>Ascending cut positions in [0, length] at which to split the input into segments or reads.</summary>
    public int[] SplitPoints(int length)
    {
        int count = random.Next(4);
        var cuts = new int[count];
        for (int i = 0; i < count; i++) cuts[i] = random.Next(length + 1);
        Array.Sort(cuts);
        return cuts;
    }

    private void Mutate(List<byte> data)
    {
        int position = random.Next(data.Count + 1);
        int atByte = data.Count == 0 ? -1 : Math.Min(position, data.Count - 1);
        switch (random.Next(9))
        {
            case 0 when atByte >= 0:
                data[atByte] ^= (byte)(1 << random.Next(8));
                break;
            case 1 when atByte >= 0:
                data[atByte] = InterestingBytes[random.Next(InterestingBytes.Length)];
                break;
            case 2:
                for (int n = 1 + random.Next(4); n > 0; n--) data.Insert(position, (byte)random.Next(256));
                break;
            case 3 when atByte >= 0:
                data.RemoveRange(atByte, Math.Min(data.Count - atByte, 1 + random.Next(16)));
                break;
            case 4 when atByte >= 0:
            {
                int length = Math.Min(data.Count - atByte, 1 + random.Next(64));
                data.InsertRange(random.Next(data.Count + 1), data.GetRange(atByte, length));
                break;
            }
            case 5:
            {
                // Splice: this input up to a point, another corpus entry from a point.
                byte[] other = corpus[random.Next(corpus.Count)];
                int from = random.Next(other.Length + 1);
                data.RemoveRange(position, data.Count - position);
                data.AddRange(other.AsSpan(from).ToArray());
                break;
            }
            case 6:
                OverwriteWithExtreme(data, position);
                break;
            case 7 when data.Count > 0:
                data.RemoveRange(position == data.Count ? data.Count - 1 : position, data.Count - (position == data.Count ? data.Count - 1 : position));
                break;
            default:
                data.Insert(position, InterestingBytes[random.Next(InterestingBytes.Length)]);
                break;
        }
    }

    /// <summary>A 2-, 4- or 8-byte field, big- or little-endian, set to a boundary value: where length fields live, they claim extremes.</summary>
    private void OverwriteWithExtreme(List<byte> data, int position)
    {
        int width = 2 << random.Next(3);
        Span<byte> field = stackalloc byte[8];
        ulong value = ExtremeValues[random.Next(ExtremeValues.Length)];
        if (random.Next(2) == 0) BinaryPrimitives.WriteUInt64BigEndian(field, value << (64 - width * 8)); // its low bytes first
        else BinaryPrimitives.WriteUInt64LittleEndian(field, value);
        for (int i = 0; i < width; i++)
        {
            if (position + i < data.Count) data[position + i] = field[i];
            else data.Add(field[i]);
        }
    }
}
