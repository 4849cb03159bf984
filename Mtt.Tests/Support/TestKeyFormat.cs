namespace Mtt.Tests.Support;

/// <summary>How a test writes a private key as PEM; the name says the label and the algorithm.</summary>
public enum TestKeyFormat
{
    /// <summary>"PRIVATE KEY" holding an RSA key.</summary>
    Pkcs8Rsa,

    /// <summary>"PRIVATE KEY" holding an ECDSA P-256 key.</summary>
    Pkcs8Ec,

    /// <summary>"RSA PRIVATE KEY".</summary>
    Pkcs1Rsa,

    /// <summary>"EC PRIVATE KEY".</summary>
    Sec1Ec,

    /// <summary>"ENCRYPTED PRIVATE KEY" holding an ECDSA P-256 key, password <see cref="TestCertificates.EncryptedKeyPassword"/>.</summary>
    EncryptedPkcs8,
}
