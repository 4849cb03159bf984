namespace Mtt.Core.Transport.OpenSsl;

/// <summary>Where one call of the handshake left it.</summary>
internal enum HandshakeStep
{
    /// <summary>OpenSSL needs more of the client's records.</summary>
    NeedMore,

    /// <summary>The handshake is complete: application data may flow.</summary>
    Done,

    /// <summary>The handshake failed; an alert may be waiting to be sent.</summary>
    Failed,
}
