namespace Mtt.Tests.Interop;

/// <summary>
/// The binary messages both independent clients send, one of each: the edges of the three payload
/// length forms (RFC 6455 section 5.2: 7-bit up to 125, 16-bit up to 65535, 64-bit beyond) and 1 MiB,
/// which a browser or ws may split into fragments or the server into several messages.
/// </summary>
public static class EchoPlan
{
    public static readonly int[] Sizes = [1, 125, 126, 65535, 65536, 1024 * 1024];

    public static int Total => Sizes.Sum();

    /// <summary>A fresh seed for each run, so every run sends other bytes; failure messages carry it.</summary>
    public static uint NewSeed() => (uint)Random.Shared.Next(1, int.MaxValue);
}
