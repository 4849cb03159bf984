namespace Mtt.Benchmarks.Load.Soak;

/// <summary>TLS records no honest client sends (RFC 8446 §5.1 framing: type, version, 16-bit length, body).</summary>
internal static class HostileRecords
{
    /// <summary>A record of a random type (valid or not), a random version and a random body of up to 2 KiB.</summary>
    public static byte[] Garbage(Random random)
    {
        int length = random.Next(0, 2048);
        byte[] record = new byte[5 + length];
        random.NextBytes(record);
        byte[] types = [0x14, 0x15, 0x16, 0x17, 0x18, 0x00, 0xff];
        record[0] = types[random.Next(types.Length)];
        record[1] = 0x03;
        record[3] = (byte)(length >> 8);
        record[4] = (byte)length;
        return record;
    }

    /// <summary>A handshake or application record claiming 0xFFFF bytes, body included (over the 2^14 + 2048 limit).</summary>
    public static byte[] Oversize(Random random)
    {
        byte[] record = new byte[5 + 0xFFFF];
        random.NextBytes(record.AsSpan(5));
        record[0] = random.Next(2) == 0 ? (byte)0x16 : (byte)0x17;
        record[1] = 0x03;
        record[2] = 0x03;
        record[3] = 0xff;
        record[4] = 0xff;
        return record;
    }

    /// <summary>Only the first bytes of a record header that promises 16 KiB: the rest never comes.</summary>
    public static byte[] Stub(Random random) => new byte[] { 0x16, 0x03, 0x01, 0x40, 0x00 }[..random.Next(1, 6)];
}
