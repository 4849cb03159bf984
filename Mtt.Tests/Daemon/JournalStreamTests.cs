using Mtt.Daemon;
using Mtt.Tests.Support;

namespace Mtt.Tests.Daemon;

/// <summary>JOURNAL_STREAM is believed only for the file it names, compared as coreutils' stat prints device and inode.</summary>
public sealed class JournalStreamTests
{
    [Fact]
    public async Task TheDeviceAndInodeOfAnOpenFile_MatchWhatStatPrints()
    {
        using var directory = new TemporaryDirectory();
        string path = directory.Write("stream", "");
        string identity = await StderrFifo.IdentityOfAsync(path);
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        int descriptor = (int)file.DangerousGetHandle();

        Assert.True(JournalStream.Matches(identity, descriptor), $"{identity} should name descriptor {descriptor}");
        string[] parts = identity.Split(':');
        Assert.False(JournalStream.Matches($"{parts[0]}:{ulong.Parse(parts[1]) + 1}", descriptor));
        Assert.False(JournalStream.Matches($"{ulong.Parse(parts[0]) + 1}:{parts[1]}", descriptor));
    }

    [Theory]
    [InlineData("")]
    [InlineData("12345")]
    [InlineData(":5")]
    [InlineData("8:")]
    [InlineData("-1:5")]
    [InlineData("a:b")]
    [InlineData("1:2:3")]
    public void AMalformedValue_IsNotTheJournal(string value)
    {
        Assert.False(JournalStream.Matches(value, 2));
    }

    [Theory]
    // glibc's makedev: the minor's low byte, the major's low 12 bits above it, then the high bits further up.
    [InlineData(0u, 0u, 0ul)]
    [InlineData(8u, 1u, 2049ul)]
    [InlineData(0u, 45u, 45ul)]
    [InlineData(259u, 3u, 66307ul)]
    [InlineData(0u, 256u, 1048576ul)]
    public void DeviceNumbers_AreEncodedAsStDevIs(uint major, uint minor, ulong expected)
    {
        Assert.Equal(expected, JournalStream.MakeDevice(major, minor));
    }
}
