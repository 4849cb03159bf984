namespace Mtt.Core.Limits;

/// <summary>Why a user's limits refused a new tunnel before its upgrade; each maps to one status and one metrics label.</summary>
public enum LimitRefusal
{
    None,

    /// <summary><c>max_conns</c> tunnels were open: 429.</summary>
    Conns,

    /// <summary><c>max_ips</c> other addresses had tunnels open: 429.</summary>
    Ips,

    /// <summary>The <c>quota</c> is spent: 403 until opt 1 sets a new one.</summary>
    Quota,

    /// <summary>The <c>expires</c> time has passed: 403.</summary>
    Expired,
}
