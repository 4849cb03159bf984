namespace Mtt.Core.Transport.OpenSsl;

/// <summary>
/// What a TLS 1.3 connection's record layer needs from OpenSSL once the handshake is done: the suite, both
/// application traffic secrets, how many records the server already sent under its secret (the session tickets), and
/// the client's bytes OpenSSL received but did not read. With these the SSL object can go.
/// </summary>
internal sealed class HandOff(CipherSuite suite, byte[] clientSecret, byte[] serverSecret, ulong serverSequence, byte[] unread)
{
    public CipherSuite Suite { get; } = suite;

    public byte[] ClientSecret { get; } = clientSecret;

    public byte[] ServerSecret { get; } = serverSecret;

    public ulong ServerSequence { get; } = serverSequence;

    public byte[] Unread { get; } = unread;
}
