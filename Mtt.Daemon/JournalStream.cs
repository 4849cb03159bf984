using System.Globalization;
using System.Runtime.InteropServices;

namespace Mtt.Daemon;

/// <summary>
/// Whether stderr is connected to the journal. systemd sets <c>JOURNAL_STREAM</c> to the <c>device:inode</c> of the
/// stream it connected, and its documentation (systemd.exec(5)) asks a program to compare that with an fstat of
/// its stderr: the variable is inherited by children whose stderr may have been redirected elsewhere, and such a
/// process must not write journal priorities into a file or a pipe.
/// </summary>
internal static partial class JournalStream
{
    public const string Variable = "JOURNAL_STREAM";

    private const int StandardError = 2;
    // statx(2): AT_EMPTY_PATH with an empty path describes the descriptor itself, as fstat does.
    private const int AtEmptyPath = 0x1000;
    private const uint StatxIno = 0x100;

    /// <summary>True when <see cref="Variable"/> names the file that descriptor 2 is.</summary>
    public static bool IsStandardError() =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value && Matches(value, StandardError);

    /// <summary>True when <paramref name="value"/> (<c>device:inode</c>, both decimal) is the file <paramref name="descriptor"/> is.</summary>
    internal static bool Matches(string value, int descriptor)
    {
        int colon = value.IndexOf(':');
        if (colon <= 0
            || !ulong.TryParse(value.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out ulong device)
            || !ulong.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out ulong inode))
        {
            return false;
        }
        return TryIdentify(descriptor, out ulong actualDevice, out ulong actualInode) && actualDevice == device && actualInode == inode;
    }

    /// <summary>The device (as glibc's makedev encodes it into st_dev) and inode of an open descriptor.</summary>
    internal static unsafe bool TryIdentify(int descriptor, out ulong device, out ulong inode)
    {
        device = 0;
        inode = 0;
        if (!OperatingSystem.IsLinux()) return false;
        // struct statx has the same layout on every Linux architecture (unlike struct stat), so one declaration serves
        // x64 and arm64 alike: 256 bytes, stx_ino at 32, stx_dev_major and stx_dev_minor at 136 and 140.
        byte* buffer = stackalloc byte[256];
        try
        {
            if (Statx(descriptor, "", AtEmptyPath, StatxIno, buffer) != 0) return false;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // A C library without statx (old glibc, some musl): then the stream cannot be confirmed, so it is not the journal.
            return false;
        }
        inode = *(ulong*)(buffer + 32);
        device = MakeDevice(*(uint*)(buffer + 136), *(uint*)(buffer + 140));
        return true;
    }

    // glibc's gnu_dev_makedev, which is how st_dev (and so JOURNAL_STREAM) encodes a device number.
    internal static ulong MakeDevice(uint major, uint minor) =>
        ((ulong)(major & 0xfffff000) << 32) | ((ulong)(major & 0x00000fff) << 8)
        | ((ulong)(minor & 0xffffff00) << 12) | (minor & 0x000000ff);

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int directoryDescriptor, string path, int flags, uint mask, byte* buffer);
}
