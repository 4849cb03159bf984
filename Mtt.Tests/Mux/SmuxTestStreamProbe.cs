using Mtt.Tests.Support;

namespace Mtt.Tests.Mux;

/// <summary>Registers a stream id with a test client without sending its SYN, for tests that write the frames by hand.</summary>
internal sealed class SmuxTestStreamProbe
{
    public SmuxTestStreamProbe(SmuxTestClient client, uint id) => Stream = client.Register(id);

    public SmuxTestStream Stream { get; }
}
