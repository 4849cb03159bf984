namespace Mtt.Tests.Support;

/// <summary>Reading what a server sends until it closes.</summary>
public static class StreamReading
{
    /// <summary>Every byte until the end of the stream; a reset counts as the end.</summary>
    public static async Task<byte[]> ReadToEndAsync(Stream stream)
    {
        var received = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer)) > 0) received.Write(buffer, 0, n);
        }
        catch (IOException)
        {
            // A reset is a close too.
        }
        return received.ToArray();
    }
}
