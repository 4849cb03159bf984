namespace Mtt.Core.Http;

/// <summary>The HTTP-version of a request line (RFC 9112 2.3), once its syntax is known to be HTTP/d.d.</summary>
internal enum RequestVersion : byte
{
    /// <summary>Well-formed but neither 1.0 nor 1.1 (HTTP/2.0 as text, HTTP/1.2...): the handler decides.</summary>
    Other,
    Http10,
    Http11,
}
