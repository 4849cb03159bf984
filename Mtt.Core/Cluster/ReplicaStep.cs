namespace Mtt.Core.Cluster;

/// <summary>What <see cref="TableReplica.Apply"/> did with a versioned change.</summary>
internal enum ReplicaStep
{
    Applied,

    /// <summary>The replica is at this version or later already (its own change coming back, or a resync got it).</summary>
    AlreadyApplied,

    /// <summary>A version before it is still missing: kept until that one comes.</summary>
    Early,

    /// <summary>Too many versions were missed: only a full resync brings the replica back.</summary>
    Gap,
}
