namespace Mtt.Core.Http;

/// <summary>
/// What one user of <see cref="HttpHeadParser"/> adds to the HTTP/1.1 syntax: its rules, checked as early
/// as each part of the head is known, and what it keeps. Implemented by a struct so that the parser is
/// specialised for it and nothing is boxed. A head still arriving is scanned again from its start after
/// each read, so <see cref="OnRequestLine"/> resets what the handler keeps, and it and <see cref="OnHeader"/>
/// allocate nothing; only <see cref="OnHeadComplete"/>, called once, builds objects.
/// </summary>
internal interface IRequestHeadHandler
{
    /// <summary>The request line has ended and is well-formed; a refusal here answers before the headers arrive.</summary>
    RequestRejectionReason OnRequestLine(ReadOnlySpan<byte> bytes, in RequestHead head);

    /// <summary>A well-formed known header line, already recorded in <paramref name="head"/>; <paramref name="value"/> is trimmed.</summary>
    RequestRejectionReason OnHeader(KnownHeader header, ReadOnlySpan<byte> value, Range valueRange, in RequestHead head);

    /// <summary>The head is complete and passed the framing rules; the last chance to refuse, and the place to build what the caller needs.</summary>
    RequestRejectionReason OnHeadComplete(ReadOnlySpan<byte> bytes, in RequestHead head);
}
