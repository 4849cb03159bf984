using System.Security.Cryptography;

namespace Mtt.Core.Listening;

/// <summary>Reads a PEM file (RFC 7468) into its labelled blocks, with the file's name in every error.</summary>
internal static class PemFile
{
    // A certificate chain or a key is a few KiB; anything this large is the wrong file, not a long chain.
    public const int MaxFileBytes = 1024 * 1024;

    internal readonly record struct Block(string Label, byte[] Data);

    /// <summary>The file's text, or a <see cref="CertificateLoadException"/> that says why it cannot be read.</summary>
    public static string ReadText(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (stream.CanSeek && stream.Length > MaxFileBytes)
                throw new CertificateLoadException($"cannot read {path}: larger than {MaxFileBytes} bytes, not a PEM certificate or key");
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CertificateLoadException($"cannot read {path}: file not found", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new CertificateLoadException($"cannot read {path}: permission denied", e);
        }
        catch (IOException e)
        {
            throw new CertificateLoadException($"cannot read {path}: {e.Message}", e);
        }
    }

    /// <summary>Every well-formed block in order; text around them (openssl's "Bag Attributes", comments) is skipped.</summary>
    public static List<Block> ReadBlocks(string text)
    {
        var blocks = new List<Block>();
        ReadOnlySpan<char> rest = text;
        while (PemEncoding.TryFind(rest, out var fields))
        {
            byte[] data = new byte[fields.DecodedDataLength];
            if (!Convert.TryFromBase64Chars(rest[fields.Base64Data], data, out int written)) break;
            blocks.Add(new Block(rest[fields.Label].ToString(), data.AsSpan(0, written).ToArray()));
            CryptographicOperations.ZeroMemory(data);
            rest = rest[fields.Location.End..];
        }
        return blocks;
    }

    /// <summary>How many blocks start with this label, well-formed or not: more than <see cref="ReadBlocks"/> found means a damaged one.</summary>
    public static int CountBeginLines(string text, string label)
    {
        string begin = $"-----BEGIN {label}-----";
        int count = 0;
        for (int at = text.IndexOf(begin, StringComparison.Ordinal); at >= 0; at = text.IndexOf(begin, at + begin.Length, StringComparison.Ordinal))
            count++;
        return count;
    }
}
