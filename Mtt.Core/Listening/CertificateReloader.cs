using System.Net.Security;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Mtt.Core.Diagnostics;

namespace Mtt.Core.Listening;

/// <summary>
/// Loads the <c>-cert</c>/<c>-key</c> pair again on request (SIGHUP) or when either file changes, into a
/// <see cref="ServerCertificate"/>: new handshakes get the new pair, live tunnels keep theirs. A pair that
/// does not load (half written, mismatched, unreadable) leaves the current certificate in place, logged.
/// </summary>
public sealed class CertificateReloader : IDisposable
{
    /// <summary>
    /// certbot, editors and <c>cp</c> change a pair in several steps (two files, truncate then write, renames):
    /// one reload once the directory has been quiet this long, not one per step.
    /// </summary>
    public static readonly TimeSpan DefaultSettleTime = TimeSpan.FromMilliseconds(500);

    private readonly string _certPath;
    private readonly string _keyPath;
    private readonly ServerCertificate _certificate;
    private readonly ILogger _log;
    private readonly TimeSpan _settleTime;
    private readonly ITimer _settle;
    private readonly Lock _lock = new();
    private readonly List<FileSystemWatcher> _watchers = [];
    // What the files held at the last attempt: a change elsewhere in the directory is then no reload.
    private byte[] _lastDigest;
    private bool _disposed;

    /// <param name="certificate">Holds the pair just loaded from these files.</param>
    /// <param name="time">The clock of the settle time; tests pass a fake one.</param>
    public CertificateReloader(string certPath, string keyPath, ServerCertificate certificate, ILogger log, TimeSpan? settleTime = null, TimeProvider? time = null)
    {
        _certPath = Path.GetFullPath(certPath);
        _keyPath = Path.GetFullPath(keyPath);
        _certificate = certificate;
        _log = log;
        _settleTime = settleTime ?? DefaultSettleTime;
        _settle = (time ?? TimeProvider.System).CreateTimer(_ => ReloadIfChanged(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _lastDigest = TryDigestFiles(out byte[]? digest, out _) ? digest : [];
    }

    /// <summary>Watches the directories of both files (symlinked pairs such as certbot's live/ are seen through the link's directory).</summary>
    public void StartWatching()
    {
        string[] directories = [Path.GetDirectoryName(_certPath)!, Path.GetDirectoryName(_keyPath)!];
        foreach (string directory in directories.Distinct(StringComparer.Ordinal))
        {
            var watcher = new FileSystemWatcher(directory)
            {
                IncludeSubdirectories = false,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
            };
            watcher.Changed += OnDirectoryChanged;
            watcher.Created += OnDirectoryChanged;
            watcher.Deleted += OnDirectoryChanged;
            watcher.Renamed += OnDirectoryChanged;
            watcher.Error += (_, e) => CertificateLog.WatcherFailed(_log, directory, e.GetException().Message);
            try
            {
                watcher.EnableRaisingEvents = true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                // Out of inotify instances, say: reloading on SIGHUP still works.
                CertificateLog.CannotWatch(_log, directory, e.Message);
                watcher.Dispose();
                continue;
            }
            lock (_lock) _watchers.Add(watcher);
        }
    }

    /// <summary>Called when a reload starts (the files are read and differ, or one was asked for): systemd's RELOADING=1.</summary>
    public Action? Reloading { get; init; }

    /// <summary>Called when that reload is over, whether or not the new pair was taken: systemd's READY=1 again.</summary>
    public Action? Reloaded { get; init; }

    /// <summary>Loads the pair now, whether or not the files changed; false (logged) when it cannot be loaded.</summary>
    public bool Reload(string reason) => Reload(reason, onlyIfChanged: false);

    private void OnDirectoryChanged(object sender, FileSystemEventArgs e)
    {
        lock (_lock)
        {
            if (!_disposed) _settle.Change(_settleTime, Timeout.InfiniteTimeSpan);
        }
    }

    private void ReloadIfChanged() => Reload("files changed", onlyIfChanged: true);

    private bool Reload(string reason, bool onlyIfChanged)
    {
        lock (_lock)
        {
            if (_disposed) return false;
            if (!TryDigestFiles(out byte[]? digest, out string? readError))
            {
                CertificateLog.ReloadFailed(_log, reason, readError);
                return false;
            }
            if (onlyIfChanged && digest.AsSpan().SequenceEqual(_lastDigest)) return false;
            _lastDigest = digest;
            Reloading?.Invoke();
            try
            {
                return LoadAndReplace(reason);
            }
            finally
            {
                Reloaded?.Invoke();
            }
        }
    }

    private bool LoadAndReplace(string reason)
    {
        SslStreamCertificateContext next;
        try
        {
            next = CertificateLoader.Load(_certPath, _keyPath);
        }
        catch (Exception e) when (e is CertificateLoadException or IOException or UnauthorizedAccessException or CryptographicException)
        {
            CertificateLog.ReloadFailed(_log, reason, e.Message);
            return false;
        }
        _certificate.Replace(next);
        var leaf = next.TargetCertificate;
        CertificateLog.Reloaded(_log, reason, leaf.Subject, leaf.NotAfter.ToUniversalTime(), leaf.GetCertHashString(HashAlgorithmName.SHA256));
        return true;
    }

    private bool TryDigestFiles([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out byte[]? digest, out string? error)
    {
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            hash.AppendData(File.ReadAllBytes(_certPath));
            hash.AppendData(File.ReadAllBytes(_keyPath));
            digest = hash.GetHashAndReset();
            error = null;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            digest = null;
            error = e.Message;
            return false;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var watcher in _watchers) watcher.Dispose();
            _watchers.Clear();
        }
        _settle.Dispose();
    }
}
