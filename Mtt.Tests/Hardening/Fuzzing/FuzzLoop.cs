using Xunit.Abstractions;

namespace Mtt.Tests.Hardening.Fuzzing;

/// <summary>
/// Runs one parser's fuzz iterations off the test thread, bounded by a wall clock, and turns any
/// exception or broken bound into a failure that names the seed, the iteration and the input.
/// </summary>
public static class FuzzLoop
{
    public delegate void Iteration(byte[] input, MutationFuzzer fuzzer, CallProbe probe);

    public static async Task RunAsync(string parser, int ciIterations, IReadOnlyList<byte[]> corpus, Iteration iteration, ITestOutputHelper? output = null)
    {
        int seed = FuzzBudget.Seed;
        int iterations = FuzzBudget.Iterations(ciIterations);
        var probe = new CallProbe();
        var run = Task.Run(() =>
        {
            // Warm-up: the corpus as it is, unchecked; it must pass too.
            probe.Checking = false;
            var warmUp = new MutationFuzzer(corpus, new Random(seed));
            for (int i = 0; i < corpus.Count; i++) RunOne(parser, seed, -1 - i, corpus[i], warmUp, probe, iteration);
            probe.Checking = true;
            for (int i = 0; i < iterations; i++)
            {
                var fuzzer = new MutationFuzzer(corpus, new Random(unchecked(seed * 31 + i)));
                RunOne(parser, seed, i, fuzzer.Next(), fuzzer, probe, iteration);
            }
        });
        try
        {
            await run.WaitAsync(FuzzBudget.RunTimeout(iterations));
        }
        catch (TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"{parser}: {iterations} iterations (seed {seed}) did not finish within {FuzzBudget.RunTimeout(iterations)}: a hang");
        }
        output?.WriteLine($"{parser}: {iterations} inputs, seed {seed}, {probe.Calls} calls, at most {probe.MaxAllocated} bytes allocated by one call");
    }

    private static void RunOne(string parser, int seed, int index, byte[] input, MutationFuzzer fuzzer, CallProbe probe, Iteration iteration)
    {
        try
        {
            iteration(input, fuzzer, probe);
        }
        catch (Exception e)
        {
            string which = index < 0 ? $"corpus entry {-1 - index}" : $"iteration {index}";
            throw new Xunit.Sdk.XunitException(
                $"{parser}: {which} of seed {seed} ({FuzzBudget.SeedVariable}={seed}) failed on input (base64) {Convert.ToBase64String(input)}: {e}");
        }
    }
}
