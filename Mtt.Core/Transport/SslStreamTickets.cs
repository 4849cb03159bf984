using System.Net.Security;
using System.Runtime.InteropServices;

namespace Mtt.Core.Transport;

/// <summary>
/// Has SslStream's server send one TLS 1.3 session ticket per full handshake instead of OpenSSL's default two, as the
/// OpenSSL engine does: one lets a browser or Node resume, and mtt-client, which never resumes, makes every ticket work
/// for nothing. .NET offers no setting for it; it keeps one SSL_CTX per certificate context on Linux, so setting the
/// count on the context of the first connection that finished its handshake holds for the connections after it
/// (the first ones still get two). If .NET made a context per connection, this would change nothing.
/// </summary>
internal static partial class SslStreamTickets
{
    // The libssl .NET loads too; its name is kept in one place, with the engine.
    private const string LibSsl = OpenSsl.OpenSslEngine.Library;

    // Same as OpenSsl.OpenSslContext's.
    private const nuint TicketsPerHandshake = 1;

    /// <summary>Sets the ticket count on the SSL_CTX under <paramref name="ssl"/> when it is not set yet; same rules as <see cref="SslStreamNative.TryWithSsl"/>.</summary>
    public static bool TryLimit(SslStream ssl) => SslStreamNative.TryWithSsl(ssl, static handle =>
    {
        IntPtr context = GetContext(handle);
        if (context == IntPtr.Zero) return false;
        return GetNumTickets(context) == TicketsPerHandshake || SetNumTickets(context, TicketsPerHandshake) == 1;
    });

    [LibraryImport(LibSsl, EntryPoint = "SSL_get_SSL_CTX")]
    private static partial IntPtr GetContext(IntPtr ssl);

    [LibraryImport(LibSsl, EntryPoint = "SSL_CTX_get_num_tickets")]
    private static partial nuint GetNumTickets(IntPtr context);

    [LibraryImport(LibSsl, EntryPoint = "SSL_CTX_set_num_tickets")]
    private static partial int SetNumTickets(IntPtr context, nuint tickets);
}
