namespace Mtt.Core.Upgrade;

/// <summary>Where parsing a request head stands after looking at the bytes buffered so far.</summary>
public enum UpgradeParseStatus
{
    /// <summary>The blank line that ends the head has not arrived yet; read more and parse again.</summary>
    Incomplete,

    /// <summary>A whole, well-formed head was read; see <see cref="UpgradeParseResult.Request"/>.</summary>
    Complete,

    /// <summary>The head can never become valid; refuse with <see cref="UpgradeParseResult.RefusalStatus"/> and close.</summary>
    Invalid,
}
