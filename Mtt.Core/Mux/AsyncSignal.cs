using System.Threading.Tasks.Sources;

namespace Mtt.Core.Mux;

/// <summary>
/// An auto-reset event for exactly one waiter at a time, reusable without allocating: a Set with no
/// waiter is remembered until the next wait. Waiters re-check their condition after every wake-up, so
/// a spurious wake (a remembered Set) is harmless. After <see cref="Set(bool)"/> the waiter runs on the
/// thread pool, never inside its caller; after <see cref="SetHere"/> it runs on the caller's thread.
/// </summary>
internal sealed class AsyncSignal : IValueTaskSource, IValueTaskSource<bool>
{
    private const int Idle = 0;
    private const int Signalled = 1;
    private const int Waiting = 2;

    // The signal is its own monitor: it is never handed to code that could lock on it, and a session holds three
    // signals of its own and two per stream, each of which would otherwise keep a 40-byte lock object for its life.
    private object Gate => this;
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private int _state;
    // What a Set with no waiter said, for the next WaitForResultAsync.
    private bool _remembered;

    public ValueTask WaitAsync()
    {
        lock (Gate)
        {
            if (_state == Signalled)
            {
                _state = Idle;
                return default;
            }
            _state = Waiting;
            _core.Reset();
            return new ValueTask(this, _core.Version);
        }
    }

    /// <summary>Like <see cref="WaitAsync"/>, and gives the result of the <see cref="Set(bool)"/> that ended the wait.</summary>
    public ValueTask<bool> WaitForResultAsync()
    {
        lock (Gate)
        {
            if (_state == Signalled)
            {
                _state = Idle;
                return new ValueTask<bool>(_remembered);
            }
            _state = Waiting;
            _core.Reset();
            return new ValueTask<bool>(this, _core.Version);
        }
    }

    public void Set() => Set(true);

    public void Set(bool result)
    {
        lock (Gate)
        {
            if (_state == Waiting)
            {
                _state = Idle;
                _core.RunContinuationsAsynchronously = true;
                _core.SetResult(result);
            }
            else
            {
                _remembered = result;
                _state = Signalled;
            }
        }
    }

    /// <summary>
    /// Like <see cref="Set(bool)"/>, but a waiter runs here, before this returns, until its next wait that does
    /// not complete at once: no thread-pool hop and wake-up between a hand-off's two sides (on a busy session,
    /// several per 64 KiB moved). Only for a caller that holds no lock and is itself at a point where the waiter
    /// may run (a loop between two steps, as when the waiter ran on another thread at the same moment).
    /// </summary>
    public void SetHere(bool result = true)
    {
        lock (Gate)
        {
            if (_state != Waiting)
            {
                _remembered = result;
                _state = Signalled;
                return;
            }
            _state = Idle;
            _core.RunContinuationsAsynchronously = false;
        }
        // Outside the lock, which the waiter takes when it waits again. Nobody else completes the core meanwhile: a
        // Set finds the state Idle, and the one waiter cannot wait again before it has run.
        _core.SetResult(result);
    }

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    bool IValueTaskSource<bool>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
