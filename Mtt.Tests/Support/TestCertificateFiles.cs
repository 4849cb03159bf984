namespace Mtt.Tests.Support;

/// <summary>Where <see cref="TestCertificates.WriteFiles"/> put the PEM files of a chain.</summary>
/// <param name="CertPath">Leaf then intermediate, as a server's certificate file holds them.</param>
/// <param name="KeyPath">The leaf's private key.</param>
/// <param name="RootPath">The root CA alone, for a client's trust store.</param>
public sealed record TestCertificateFiles(string CertPath, string KeyPath, string RootPath);
