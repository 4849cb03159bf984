using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Mtt.Core.Transport.OpenSsl;

/// <summary>
/// The SSL_CTX made from one <see cref="SslStreamCertificateContext"/> (the same certificate the SslStream engine
/// presents): its leaf, intermediates and key, TLS 1.2 and 1.3, ALPN http/1.1, read-ahead, buffers released when
/// empty. Made once per certificate and kept beside it, so a reload (a new certificate context) makes a new one and
/// the old one goes when its last connection does.
/// </summary>
internal sealed unsafe class OpenSslContext
{
    // With read-ahead, one recv takes up to this much: several records of a bulk transfer per system call.
    private const int ReadAheadBufferLength = 64 * 1024;

    // TLS 1.3 session tickets sent after each full handshake (OpenSSL's default is 2). One lets a browser or Node
    // resume; mtt-client keeps no session cache and never does, so every ticket is work for nothing on its path:
    // each costs ~0.04 ms of ~0.4 ms of libssl's handshake here (docs/benchmarks.md, "Churn and idle memory per connection").
    private const nuint TicketsPerHandshake = 1;

    private static readonly ConditionalWeakTable<SslStreamCertificateContext, OpenSslContext> s_contexts = new();

    private OpenSslContext(SslContextHandle handle) => Handle = handle;

    public SslContextHandle Handle { get; }

    /// <summary>The context for <paramref name="certificate"/>, made on first use.</summary>
    /// <exception cref="CryptographicException">The key is not exportable or OpenSSL refuses the pair.</exception>
    public static OpenSslContext For(SslStreamCertificateContext certificate) =>
        s_contexts.TryGetValue(certificate, out var context) ? context : s_contexts.GetValue(certificate, static c => Create(c));

    private static OpenSslContext Create(SslStreamCertificateContext certificate)
    {
        IntPtr context = LibSsl.ContextNew(LibSsl.TlsServerMethod());
        if (context == IntPtr.Zero) throw Failure("SSL_CTX_new");
        var handle = new SslContextHandle(context);
        try
        {
            // SslStream's defaults on Linux: TLS 1.2 and 1.3, no renegotiation.
            LibSsl.ContextControl(context, LibSsl.CtrlSetMinProtoVersion, LibSsl.Tls12Version, IntPtr.Zero);
            LibSsl.ContextSetOptions(context, LibSsl.OptionNoRenegotiation | LibSsl.OptionIgnoreUnexpectedEof);
            // AES-128-GCM before AES-256-GCM, as the Go original: as safe, and cheaper per byte (7 % by `openssl
            // speed` on 16 KiB here, on a path where the cipher is a third of the CPU).
            SuiteOrder.Apply(context);
            // Pooled managed buffers may move between a write that must be retried and its retry; idle connections
            // give their record buffers back as soon as they are empty.
            LibSsl.ContextControl(context, LibSsl.CtrlMode, LibSsl.ModeAcceptMovingWriteBuffer | LibSsl.ModeReleaseBuffers, IntPtr.Zero);
            LibSsl.ContextControl(context, LibSsl.CtrlSetReadAhead, 1, IntPtr.Zero);
            LibSsl.ContextSetDefaultReadBufferLength(context, ReadAheadBufferLength);
            // Tickets stay (stateless, so resumption costs no memory here); the per-context session cache, which
            // would hold every session of the process's life up to 20480, goes.
            LibSsl.ContextControl(context, LibSsl.CtrlSetSessionCacheMode, LibSsl.SessionCacheOff, IntPtr.Zero);
            LibSsl.ContextSetNumTickets(context, TicketsPerHandshake);
            UseCertificate(context, certificate);
            AlpnSelection.Install(context);
            TrafficSecretLog.Install(context);
            return new OpenSslContext(handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static void UseCertificate(IntPtr context, SslStreamCertificateContext certificate)
    {
        var leaf = certificate.TargetCertificate;
        IntPtr x509 = Decode(leaf.RawData);
        int used = LibSsl.ContextUseCertificate(context, x509);
        LibCrypto.X509Free(x509);
        if (used != 1) throw Failure("SSL_CTX_use_certificate");
        foreach (var intermediate in certificate.IntermediateCertificates)
        {
            IntPtr extra = Decode(intermediate.RawData);
            // On success the context owns the certificate.
            if (LibSsl.ContextControl(context, LibSsl.CtrlExtraChainCert, 0, extra) != 1)
            {
                LibCrypto.X509Free(extra);
                throw Failure("SSL_CTX_add_extra_chain_cert");
            }
        }
        byte[] pkcs8 = ExportKey(leaf);
        try
        {
            fixed (byte* start = pkcs8)
            {
                byte* cursor = start;
                IntPtr key = LibCrypto.DecodePrivateKey(IntPtr.Zero, &cursor, pkcs8.Length);
                if (key == IntPtr.Zero) throw Failure("d2i_AutoPrivateKey");
                used = LibSsl.ContextUsePrivateKey(context, key);
                LibCrypto.KeyFree(key);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
        if (used != 1 || LibSsl.ContextCheckPrivateKey(context) != 1) throw Failure("SSL_CTX_use_PrivateKey");
    }

    private static byte[] ExportKey(X509Certificate2 leaf)
    {
        using AsymmetricAlgorithm? key = (AsymmetricAlgorithm?)leaf.GetECDsaPrivateKey() ?? leaf.GetRSAPrivateKey();
        return key?.ExportPkcs8PrivateKey() ?? throw new CryptographicException("the certificate has no ECDSA or RSA private key");
    }

    private static IntPtr Decode(byte[] der)
    {
        fixed (byte* start = der)
        {
            byte* cursor = start;
            IntPtr x509 = LibCrypto.DecodeX509(IntPtr.Zero, &cursor, der.Length);
            return x509 != IntPtr.Zero ? x509 : throw Failure("d2i_X509");
        }
    }

    private static CryptographicException Failure(string call) =>
        new($"OpenSSL {call} failed: {LibCrypto.TakeErrors() ?? "no error queued"}");
}
