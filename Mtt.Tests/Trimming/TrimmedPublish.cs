namespace Mtt.Tests.Trimming;

/// <summary>
/// A trimmed publish keeps both cores busy for about a minute: it runs alone, after the parallel tests, so that no
/// timing of theirs is measured on a starved machine.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TrimmedPublish
{
    public const string Name = "trimmed publish";
}
