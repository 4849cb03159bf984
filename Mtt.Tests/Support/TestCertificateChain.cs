using System.Security.Cryptography.X509Certificates;

namespace Mtt.Tests.Support;

/// <summary>A root CA, an intermediate CA it signed, and a server leaf the intermediate signed; each with its private key.</summary>
public sealed record TestCertificateChain(X509Certificate2 Root, X509Certificate2 Intermediate, X509Certificate2 Leaf) : IDisposable
{
    public void Dispose()
    {
        Leaf.Dispose();
        Intermediate.Dispose();
        Root.Dispose();
    }
}
