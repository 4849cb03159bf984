namespace Mtt.Core.Mux;

/// <summary>What one <see cref="SmuxFrameParser.Parse"/> step produced.</summary>
public enum SmuxParseStatus
{
    /// <summary>Nothing consumed: the input ends inside a header (or a UPD's data), or is empty.</summary>
    NeedMoreData,

    /// <summary>A header was consumed (with a UPD's data); for PSH, the data follows as <see cref="Data"/> steps.</summary>
    Frame,

    /// <summary>The first <c>consumed</c> bytes of the input are data for the current PSH frame's stream.</summary>
    Data,

    /// <summary>The input breaks the protocol; <see cref="SmuxFrameParser.Error"/> says how. Every later call fails too.</summary>
    ProtocolError,
}
