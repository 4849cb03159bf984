namespace Mtt.Core.Mux;

/// <summary>
/// The streams of one session by id, and how many of them hold one of the session's places. A stream
/// holds a place from its SYN until it has ended both ways (its FIN and the client's), which may be
/// before it is gone from the registry: its last frame may still wait to be written, its backend to
/// be closed. Those ended streams are bounded too, so a client that never reads cannot pile them up.
/// </summary>
internal sealed class SmuxStreamRegistry
{
    // Also the registry's lock: private, never handed out, so no lock object of its own (40 B per session).
    private readonly Dictionary<uint, SmuxStream> _streams;
    private readonly int _maxStreams;
    private int _placesTaken;

    public SmuxStreamRegistry(int maxStreams)
    {
        _maxStreams = maxStreams;
        // Grown as streams open, not sized for the most a session may have: most sessions carry one or two
        // streams, and an idle session would otherwise hold room for maxStreams (~0.5 KiB at 16) for its life.
        _streams = [];
    }

    /// <summary>Streams registered: open, or ended and still finishing.</summary>
    public int Count
    {
        get { lock (_streams) return _streams.Count; }
    }

    /// <summary>
    /// Registers a new stream for a SYN and takes a place for it, unless every place is taken (refused) or
    /// the registry holds twice as many streams as places (the rest ended and still finishing: no room yet).
    /// </summary>
    public SmuxOpenOutcome TryOpen(uint id, byte version, SmuxSession session, out SmuxStream? opened)
    {
        opened = null;
        lock (_streams)
        {
            if (_streams.ContainsKey(id)) return SmuxOpenOutcome.Opened;
            if (_placesTaken >= _maxStreams) return SmuxOpenOutcome.Refused;
            // Ended streams hold no place but still hold memory and a backend connection: at most as many
            // again as the places, or a client that never reads our FINs could pile them up.
            if (_streams.Count >= 2 * _maxStreams) return SmuxOpenOutcome.NoRoomYet;
            opened = new SmuxStream(id, version, session);
            _streams.Add(id, opened);
            _placesTaken++;
        }
        return SmuxOpenOutcome.Opened;
    }

    public SmuxStream? Find(uint id)
    {
        lock (_streams) return _streams.GetValueOrDefault(id);
    }

    /// <summary>A stream has ended both ways: its place is free for the next SYN. Called once per stream.</summary>
    public void ReleasePlace()
    {
        lock (_streams) _placesTaken--;
    }

    /// <summary>A stream is gone; returns how many are left.</summary>
    public int Remove(uint id)
    {
        lock (_streams)
        {
            _streams.Remove(id);
            return _streams.Count;
        }
    }

    /// <summary>The streams registered now, to stop them all.</summary>
    public SmuxStream[] Snapshot()
    {
        lock (_streams) return [.. _streams.Values];
    }
}
