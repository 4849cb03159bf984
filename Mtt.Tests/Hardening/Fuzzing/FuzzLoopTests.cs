namespace Mtt.Tests.Hardening.Fuzzing;

/// <summary>The fuzz harness itself: it must catch what it claims to, or its green runs mean nothing.</summary>
public class FuzzLoopTests
{
    private static readonly byte[][] Corpus = [[0x82, 0x85, 1, 2, 3, 4, 5, 6, 7, 8, 9]];

    [Fact]
    public async Task AParserThatAllocatesByTheClaimedLength_Fails_NamingSeedIterationAndInput()
    {
        var failure = await Assert.ThrowsAsync<Xunit.Sdk.XunitException>(() => FuzzLoop.RunAsync("claims", 1_000, Corpus, (input, _, probe) =>
        {
            probe.Begin();
            var buffer = new byte[input.Length > 1 ? input[1] * 1024 : 0];
            probe.End();
            GC.KeepAlive(buffer);
        }));

        Assert.Contains("allocated", failure.Message);
        Assert.Contains("MTT_FUZZ_SEED=", failure.Message);
        Assert.Contains("iteration", failure.Message);
    }

    [Fact]
    public async Task AParserThatThrows_Fails()
    {
        var failure = await Assert.ThrowsAsync<Xunit.Sdk.XunitException>(() => FuzzLoop.RunAsync("throws", 1_000, Corpus, (input, _, probe) =>
        {
            probe.Begin();
            int index = input.Length > 0 ? input[0] : 0;
            probe.End();
            if (index != 0x82) throw new IndexOutOfRangeException("a mutant reached a bug");
        }));

        Assert.Contains("IndexOutOfRangeException", failure.Message);
    }

    [Fact]
    public void Mutations_AreReproducible_AndVaried()
    {
        static List<string> Run(int seed)
        {
            var fuzzer = new MutationFuzzer(Corpus, new Random(seed));
            return [.. Enumerable.Range(0, 200).Select(_ => Convert.ToHexString(fuzzer.Next()))];
        }

        var first = Run(1);
        Assert.Equal(first, Run(1));
        Assert.NotEqual(first, Run(2));
        Assert.True(first.Distinct().Count() > 150, "most mutants should differ");
    }
}
