namespace Mtt.Core.Upgrade;

/// <summary>
/// What a scan of the head bytes found, as offsets into those bytes. Scanning allocates nothing, so a
/// head that is still arriving (and is scanned again with each read) costs no garbage; strings are
/// made once, when it completes.
/// </summary>
internal struct RequestHead
{
    /// <summary>Bytes from the start of the buffer up to and including the blank line.</summary>
    public int Length;

    /// <summary>Where the first header line starts.</summary>
    public int HeaderStart;

    public Range Path;

    /// <summary>An absolute-form target without a path means "/" (RFC 3986 6.2.3).</summary>
    public bool ImplicitRootPath;

    public bool IsAbsoluteForm;
    public Range Authority;

    public Range Host;
    public int HostCount;
    public Range Key;
    public int KeyCount;
    public Range Version;
    public int VersionCount;
    public Range ForwardedFor;
    public int ForwardedForCount;
    public Range RealIp;
    public int RealIpCount;

    public bool UpgradeWebSocket;
    public bool ConnectionUpgrade;
    public Subprotocol OfferedSubprotocol;
}
