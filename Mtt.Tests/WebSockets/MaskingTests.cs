using Mtt.Core.WebSockets;

namespace Mtt.Tests.WebSockets;

public class MaskingTests
{
    private static byte[] ScalarReference(byte[] data, int maskKey, int offset)
    {
        var result = (byte[])data.Clone();
        for (int i = 0; i < result.Length; i++)
            result[i] ^= ClientFrameBuilder.KeyByte(maskKey, offset + i);
        return result;
    }

    [Fact]
    public void Apply_EqualsScalarReference_ForEveryLengthOffsetAndRandomKeys()
    {
        var random = new Random(6455);
        for (int length = 0; length <= 200; length++)
        for (int offset = 0; offset < 4; offset++)
        for (int trial = 0; trial < 3; trial++)
        {
            int key = random.Next(int.MinValue, int.MaxValue);
            byte[] data = DecoderFeed.Pattern(length, seed: length * 31 + offset);
            byte[] expected = ScalarReference(data, key, offset);

            int next = Masking.Apply(data, key, offset);

            Assert.Equal(expected, data);
            Assert.Equal((offset + length) & 3, next);
        }
    }

    [Fact]
    public void Apply_OnASliceNotAlignedInMemory_EqualsScalarReference()
    {
        const int key = unchecked((int)0xDEADBEEF);
        byte[] backing = DecoderFeed.Pattern(300, seed: 9);
        for (int start = 1; start < 8; start++)
        {
            byte[] data = (byte[])backing.Clone();
            byte[] expected = ScalarReference(backing[start..], key, 2);
            Masking.Apply(data.AsSpan(start), key, 2);
            Assert.Equal(expected, data[start..]);
            Assert.Equal(backing[..start], data[..start]);
        }
    }

    [Fact]
    public void Apply_InPiecesWithReturnedOffset_EqualsOneApply()
    {
        const int key = 0x01020304;
        byte[] whole = DecoderFeed.Pattern(1000, seed: 3);
        byte[] expected = ScalarReference(whole, key, 0);

        byte[] pieces = (byte[])whole.Clone();
        int offset = 0, at = 0;
        foreach (int size in new[] { 1, 2, 3, 5, 63, 64, 65, 127, 200, 1 })
        {
            offset = Masking.Apply(pieces.AsSpan(at, size), key, offset);
            at += size;
        }
        Masking.Apply(pieces.AsSpan(at), key, offset);

        Assert.Equal(expected, pieces);
    }

    [Fact]
    public void ApplyWhileCopying_EqualsScalarReference_AndLeavesTheSourceAlone()
    {
        var random = new Random(5);
        for (int length = 0; length <= 200; length++)
        for (int offset = 0; offset < 4; offset++)
        {
            int key = random.Next(int.MinValue, int.MaxValue);
            byte[] source = DecoderFeed.Pattern(length, seed: length + offset);
            byte[] original = (byte[])source.Clone();
            // Longer than the source, at an odd start: the bytes around the written run must stay as they were.
            byte[] destination = Enumerable.Repeat((byte)0xA5, length + 9).ToArray();

            int next = Masking.Apply(source, destination.AsSpan(3), key, offset);

            Assert.Equal(ScalarReference(source, key, offset), destination[3..(3 + length)]);
            Assert.All(destination[..3].Concat(destination[(3 + length)..]), b => Assert.Equal(0xA5, b));
            Assert.Equal(original, source);
            Assert.Equal((offset + length) & 3, next);
        }
    }

    [Fact]
    public void ApplyWhileCopying_IntoAShorterDestination_Throws() =>
        Assert.Throws<ArgumentException>(() => Masking.Apply(new byte[8], new byte[7], 1, 0));

    [Fact]
    public void Apply_Twice_RestoresTheData()
    {
        byte[] original = DecoderFeed.Pattern(777, seed: 4);
        byte[] data = (byte[])original.Clone();
        Masking.Apply(data, 0x11223344, 1);
        Assert.NotEqual(original, data);
        Masking.Apply(data, 0x11223344, 1);
        Assert.Equal(original, data);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(4)]
    public void Apply_OffsetOutsideTheKey_Throws(int offset) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Masking.Apply(new byte[4], 1, offset));
}
