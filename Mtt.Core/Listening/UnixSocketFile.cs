using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Mtt.Core.Listening;

/// <summary>
/// The file a Unix domain socket listener (<c>-bind-unix</c>) lives at: made way for at start, opened to the
/// front proxy, removed at exit. Nothing but a socket is ever deleted: a path that names a regular file, a
/// directory or a link is an operator's mistake, and refusing to start says so without losing their data.
/// </summary>
internal static partial class UnixSocketFile
{
    /// <summary>
    /// rw for everyone (0666): connecting needs write permission on the socket, and the front proxy (nginx as
    /// www-data, HAProxy as haproxy) is another user, while the service runs as its own (with systemd's
    /// DynamicUser, one made up at start that no group can be planned around). The socket is thereby exactly as
    /// reachable as the loopback port it replaces, which any local user can connect to; who may reach it is
    /// decided by the directory it is in (e.g. a 0750 directory whose group is the proxy's).
    /// </summary>
    public const UnixFileMode Mode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;

    // <fcntl.h> and <linux/stat.h>: relative to the working directory, the link itself rather than its target, type bits only.
    private const int AtCurrentDirectory = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    // struct statx is 256 bytes on every architecture, with stx_mode (a u16) at offset 28.
    private const int StatxSize = 256;
    private const int StatxModeOffset = 28;
    private const int FileTypeMask = 0xF000;
    private const int SocketType = 0xC000;
    private const int NoSuchFile = 2; // ENOENT

    /// <summary>
    /// Makes way for a bind at <paramref name="path"/>: nothing there, or a socket that no process listens on
    /// any more (a crashed run's), which is removed. Throws <see cref="IOException"/>, saying why, for anything else.
    /// </summary>
    public static void PrepareForBind(string path)
    {
        var kind = Inspect(path);
        if (kind == UnixPathKind.Missing) return;
        if (kind == UnixPathKind.Unknown)
            throw new IOException($"{path} exists and its type cannot be read here; remove it if it is a stale socket");
        if (kind == UnixPathKind.NotSocket)
            throw new IOException($"{path} exists and is not a socket (a file, directory or link); not deleting it: remove it or choose another path");
        if (SomeoneListens(path))
            throw new IOException($"{path} is a socket that another process is listening on; is a second server running?");
        try
        {
            File.Delete(path);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"{path} is a stale socket that cannot be removed: {e.Message}", e);
        }
    }

    /// <summary>Gives the socket <see cref="Mode"/>; the umask decided its mode at bind. (Windows has no such modes.)</summary>
    public static void AllowConnections(string path)
    {
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, Mode);
    }

    /// <summary>Removes the socket at exit; whatever else stands there by then (someone replaced it) is left alone.</summary>
    public static void Remove(string path)
    {
        try
        {
            if (Inspect(path) == UnixPathKind.Socket) File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }


    /// <summary>What is at <paramref name="path"/>, without following a link; <see cref="UnixPathKind.Unknown"/> where statx is not there to ask.</summary>
    internal static unsafe UnixPathKind Inspect(string path)
    {
        if (!OperatingSystem.IsLinux()) return File.Exists(path) || Directory.Exists(path) ? UnixPathKind.Unknown : UnixPathKind.Missing;
        byte* buffer = stackalloc byte[StatxSize];
        int result;
        try
        {
            result = Statx(AtCurrentDirectory, path, AtSymlinkNoFollow, StatxType, buffer);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return File.Exists(path) || Directory.Exists(path) ? UnixPathKind.Unknown : UnixPathKind.Missing;
        }
        if (result != 0) return Marshal.GetLastPInvokeError() == NoSuchFile ? UnixPathKind.Missing : UnixPathKind.Unknown;
        int mode = *(ushort*)(buffer + StatxModeOffset);
        return (mode & FileTypeMask) == SocketType ? UnixPathKind.Socket : UnixPathKind.NotSocket;
    }

    // A stale socket refuses at once (ECONNREFUSED); a live one accepts into its backlog, or would once it has
    // room (non-blocking, so a full backlog cannot hold the start up).
    private static bool SomeoneListens(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, ProtocolType.Unspecified) { Blocking = false };
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress or SocketError.TryAgain)
        {
            return true;
        }
        catch (SocketException e)
        {
            throw new IOException($"{path} is a socket that cannot be probed for a listener ({e.SocketErrorCode}); remove it if it is stale", e);
        }
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int directory, string path, int flags, uint mask, byte* buffer);
}
