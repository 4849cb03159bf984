using Mtt.Core.Transport;

namespace Mtt.Tests.Support;

/// <summary>Theory data: every TLS test runs once on each engine of <c>-tls-engine</c>.</summary>
public static class TlsEngines
{
    public static TheoryData<TlsEngine> Both => new(TlsEngine.SslStream, TlsEngine.OpenSsl);
}
