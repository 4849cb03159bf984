namespace Mtt.Benchmarks.Load;

/// <summary>Progress lines on stderr, so stdout holds only the results (the table or the JSON).</summary>
internal static class Progress
{
    public static void Write(string message) => Console.Error.WriteLine($"[load {DateTime.Now:HH:mm:ss}] {message}");
}
