namespace Mtt.Benchmarks.Load;

/// <summary>How the echo is checked to be byte-exact.</summary>
internal enum VerifyMode
{
    /// <summary>Each received byte is compared with the byte sent at that stream position (memcmp cost).</summary>
    Compare,

    /// <summary>SHA-256 of everything sent against SHA-256 of everything received (costs the client ~1 s of CPU per GB).</summary>
    Sha256,
}
