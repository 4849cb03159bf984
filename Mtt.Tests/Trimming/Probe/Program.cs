// The shape that hung the drain of the published server (docs/trimmed-publish-lock-hang.md): a lock taken in the
// finally of an async method whose body the trimmer rewrites (here because YieldAwaiter.IsCompleted is a constant).
// Prints "released" and exits 0 when the lock is free again afterwards, "held" and 1 when the trimmer dropped its exit.

var gate = new Lock();
await EndConnectionAsync(gate);

// A thread of its own: the pool thread that ran the finally would enter a lock it still holds, recursively.
bool released = false;
var other = new Thread(() =>
{
    released = gate.TryEnter(TimeSpan.FromSeconds(5));
    if (released) gate.Exit();
});
other.Start();
other.Join();
Console.WriteLine(released ? "released" : "held");
return released ? 0 : 1;

static async Task EndConnectionAsync(Lock gate)
{
    await Task.Yield();
    try
    {
        await Task.Delay(1);
    }
    finally
    {
        lock (gate)
        {
            Counter.Ended++;
        }
    }
}

static class Counter
{
    public static int Ended;
}
