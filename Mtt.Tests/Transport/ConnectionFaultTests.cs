using System.Net.Sockets;
using System.Security.Authentication;
using Mtt.Core.Transport;

namespace Mtt.Tests.Transport;

/// <summary>
/// A connection failing ends a tunnel quietly; an exception of the server's own (the kind a socket read consumed
/// twice raised, which was once filed as a client disconnect) is told apart, so the tunnel's end warns about it.
/// </summary>
public sealed class ConnectionFaultTests
{
    public static TheoryData<Exception> Failures() =>
    [
        new IOException("reset"),
        new SocketException((int)SocketError.ConnectionReset),
        new ObjectDisposedException("socket"),
        new AuthenticationException("bad record mac"),
        new OperationCanceledException(),
    ];

    public static TheoryData<Exception> Faults() =>
    [
        new InvalidOperationException("Operation is not valid due to the current state of the object."),
        new NullReferenceException(),
        new ArgumentOutOfRangeException("count"),
    ];

    [Theory]
    [MemberData(nameof(Failures))]
    public void AConnectionFailing_IsAFailureOfTheConnection(Exception e) => Assert.True(ConnectionFault.IsConnectionFailure(e));

    [Theory]
    [MemberData(nameof(Faults))]
    public void TheServersOwnFault_IsNot(Exception e) => Assert.False(ConnectionFault.IsConnectionFailure(e));
}
