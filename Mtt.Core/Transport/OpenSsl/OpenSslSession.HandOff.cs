using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Mtt.Core.Transport.OpenSsl;

/// <summary>
/// Handing a TLS 1.3 connection from OpenSSL to the engine's own record layer (<see cref="Tls13RecordStream"/>) once
/// the handshake is done: an idle connection then holds two AEAD contexts instead of an SSL object (~16 KiB of native
/// memory), and each record is decrypted straight into the reader's buffer. It is the hand-off kTLS makes to the
/// kernel, made to user space (<see cref="KernelTls"/>). TLS 1.2 and any other suite stay with OpenSSL.
/// </summary>
internal sealed unsafe partial class OpenSslSession
{
    private const int TlsVersion13 = 0x0304;
    private const byte ApplicationDataRecord = 23;

    // The application traffic secrets (RFC 8446 section 7.1), as the key log names them.
    private static ReadOnlySpan<byte> ClientSecretLabel => "CLIENT_TRAFFIC_SECRET_0 "u8;
    private static ReadOnlySpan<byte> ServerSecretLabel => "SERVER_TRAFFIC_SECRET_0 "u8;

    private byte[]? _clientSecret;
    private byte[]? _serverSecret;

    /// <summary>Called by <see cref="TrafficSecretLog"/> with one key-log line of this session's handshake.</summary>
    internal void TakeSecret(IntPtr ssl, ReadOnlySpan<byte> line)
    {
        if (ssl != _ssl) return;
        if (line.StartsWith(ClientSecretLabel)) _clientSecret = Secret(line[ClientSecretLabel.Length..]);
        else if (line.StartsWith(ServerSecretLabel)) _serverSecret = Secret(line[ServerSecretLabel.Length..]);
    }

    // "<client random, hex> <secret, hex>".
    private static byte[]? Secret(ReadOnlySpan<byte> fields)
    {
        int space = fields.IndexOf((byte)' ');
        if (space < 0) return null;
        var hex = fields[(space + 1)..];
        if (hex.Length % 2 != 0 || hex.Length > 128) return null;
        var secret = new byte[hex.Length / 2];
        for (int i = 0; i < secret.Length; i++)
        {
            int high = HexValue(hex[2 * i]), low = HexValue(hex[2 * i + 1]);
            if ((high | low) < 0) return null;
            secret[i] = (byte)(high << 4 | low);
        }
        return secret;
    }

    private static int HexValue(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>
    /// After <see cref="Handshake"/> said Done, and before its output is taken: what the record layer needs, or null
    /// when the connection stays with OpenSSL (then with read-ahead, as the context set it).
    /// </summary>
    public HandOff? TryHandOff()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var handOff = HandOffUnderLock();
            if (handOff is null)
            {
                LibSsl.SetReadAhead(_ssl, 1);
                Forget(ref _clientSecret);
                Forget(ref _serverSecret);
            }
            else
            {
                // The record layer owns them now.
                _clientSecret = _serverSecret = null;
            }
            return handOff;
        }
    }

    private HandOff? HandOffUnderLock()
    {
        if (LibSsl.Version(_ssl) != TlsVersion13 || _clientSecret is null || _serverSecret is null) return null;
        if (!CipherSuite.TryFind(LibSsl.CipherProtocolId(LibSsl.GetCurrentCipher(_ssl)), out var suite)) return null;
        if (_clientSecret.Length != suite.HashLength || _serverSecret.Length != suite.HashLength) return null;
        // Read-ahead was off for the handshake, so OpenSSL read the client's Finished and nothing after it; anything
        // it still holds would be lost with the SSL object.
        if (LibSsl.HasPending(_ssl) != 0) return null;
        // What this last step wrote (the session tickets) is all under the server's application secret.
        if (!CountRecords(LibCrypto.MemoryData(_target->Overflow), out ulong sent)) return null;
        var unread = LibCrypto.MemoryData(_readBio).ToArray();
        return new HandOff(suite, _clientSecret, _serverSecret, sent, unread);
    }

    private static bool CountRecords(ReadOnlySpan<byte> output, out ulong records)
    {
        records = 0;
        while (output.Length >= 5)
        {
            if (output[0] != ApplicationDataRecord) return false;
            int length = 5 + BinaryPrimitives.ReadUInt16BigEndian(output[3..]);
            if (length > output.Length) return false;
            output = output[length..];
            records++;
        }
        return output.IsEmpty;
    }

    private static void Forget(ref byte[]? secret)
    {
        if (secret is not null) CryptographicOperations.ZeroMemory(secret);
        secret = null;
    }
}
