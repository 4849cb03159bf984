namespace Mtt.Core.Control.Http;

/// <summary>How reading a part of a controller request ended.</summary>
internal enum RequestReadStatus : byte
{
    /// <summary>The part arrived whole and well-formed.</summary>
    Read,

    /// <summary>The part is malformed or too large: answer with the rejection and close.</summary>
    Refused,

    /// <summary>The client closed first: there is no one to answer.</summary>
    ClientClosed,
}
