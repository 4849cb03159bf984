namespace Mtt.Core.Listening;

/// <summary>What a path is, as far as replacing a stale Unix socket goes.</summary>
internal enum UnixPathKind
{
    Missing,
    Socket,
    NotSocket,
    // It exists, but its type cannot be read here (no statx): nothing is deleted.
    Unknown,
}
