namespace Mtt.Benchmarks.Relay;

/// <summary>A running relay with a client at one end and an echo backend at the other.</summary>
internal interface IRelayRig : IAsyncDisposable
{
    /// <summary>Bytes of client data in one message.</summary>
    int MessageBytes { get; }

    /// <summary>
    /// Sends <paramref name="messages"/> messages one after the other, each waiting for its echo to come
    /// back whole and checked byte for byte: the server relays each message once each way.
    /// </summary>
    ValueTask EchoAsync(int messages);
}
