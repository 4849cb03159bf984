using System.Text;
using Mtt.Core.Routing;

namespace Mtt.Core.Control.State;

/// <summary>What the controller accepts as a user's path: something a request line can carry and the router can find.</summary>
internal static class PathRules
{
    /// <summary>Why <paramref name="path"/> cannot be a user's path, or null when it can. The reason never quotes the path.</summary>
    public static string? Check(string path)
    {
        if (path.Length == 0 || path[0] != '/') return "path must start with '/'";
        if (Encoding.UTF8.GetByteCount(path) > RouteTable.MaxPathBytes)
            return $"path is longer than {RouteTable.MaxPathBytes} bytes (UTF-8)";
        foreach (Rune rune in path.EnumerateRunes())
        {
            // A request target ends at whitespace (RFC 9112 section 3), and control characters never reach the router.
            if (Rune.IsWhiteSpace(rune) || Rune.IsControl(rune))
                return "path must not contain whitespace or control characters";
            // The router matches the path without its query, and a fragment is never sent: a user
            // whose path held either could never be reached.
            if (rune.Value is '?' or '#')
                return "path must not contain '?' or '#' (the query is not part of the routed path)";
        }
        return null;
    }
}
