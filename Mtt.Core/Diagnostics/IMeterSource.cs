using System.Diagnostics.Metrics;

namespace Mtt.Core.Diagnostics;

/// <summary>A part of the server with instruments of its own (the shared table's, with <c>-redis</c>), created on the server's meter.</summary>
internal interface IMeterSource
{
    void Register(Meter meter);
}
