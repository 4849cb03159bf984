namespace Mtt.Core.Control.Commands;

/// <summary>
/// An opt 1 entry's limit fields as they arrived, not yet checked: each number as JSON gave it (null when it was
/// not a number), and whether the field was there at all. JSON null counts as absent, as for the other fields.
/// </summary>
internal record struct RawLimitFields
{
    public bool HasMaxConns;
    public decimal? MaxConns;
    public bool HasMaxIps;
    public decimal? MaxIps;
    public bool HasRate;
    public decimal? Rate;
    public bool HasQuota;
    public decimal? Quota;
    public bool HasExpires;
    public string? Expires;

    public readonly bool Any => HasMaxConns || HasMaxIps || HasRate || HasQuota || HasExpires;
}
