namespace Mtt.Tests.Control;

/// <summary>A response as read off the wire by <see cref="RawHttpConnection"/>.</summary>
internal sealed record RawResponse(string Head, string Body)
{
    public int Status => int.Parse(Head.Split(' ')[1]);

    public string? Header(string name)
    {
        foreach (string line in Head.Split("\r\n").Skip(1))
        {
            int colon = line.IndexOf(':');
            if (colon > 0 && line[..colon].Equals(name, StringComparison.OrdinalIgnoreCase)) return line[(colon + 1)..].Trim();
        }
        return null;
    }
}
