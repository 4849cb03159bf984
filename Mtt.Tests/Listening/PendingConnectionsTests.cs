using System.Net;
using Mtt.Core.ClientAddress;
using Mtt.Core.Diagnostics;
using Mtt.Core.Listening;

namespace Mtt.Tests.Listening;

public class PendingConnectionsTests
{
    [Fact]
    public void AnAddressAtTheLimit_IsRefused_CountedAndLoggedOncePerSpell_AndForgottenAtZero()
    {
        var pending = new PendingConnections(2);
        var metrics = new ServerMetrics();
        var logText = new StringWriter();
        var log = new ServerLog(logText, verbose: false);
        var client = IPAddress.Parse("203.0.113.7");

        Assert.True(pending.TryAdmit(client, null, metrics, log, out var first));
        Assert.True(pending.TryAdmit(IPAddress.Parse("::ffff:203.0.113.7"), null, metrics, log, out var second));
        Assert.False(pending.TryAdmit(client, null, metrics, log, out var refused));
        Assert.False(pending.TryAdmit(client, null, metrics, log, out _));
        Assert.Null(refused);
        Assert.Equal(2, metrics.Refused(HandshakeRefusal.PendingPerAddress));
        Assert.Single(logText.ToString().Split('\n'), line => line.Contains("-max-pending-per-ip", StringComparison.Ordinal));

        pending.Leave(first!);
        pending.Leave(second!);
        Assert.Equal(0, pending.Addresses);
        // A new spell is logged again.
        Assert.True(pending.TryAdmit(client, null, metrics, log, out _));
        Assert.True(pending.TryAdmit(client, null, metrics, log, out _));
        Assert.False(pending.TryAdmit(client, null, metrics, log, out _));
        Assert.Equal(2, logText.ToString().Split('\n').Count(line => line.Contains("-max-pending-per-ip", StringComparison.Ordinal)));
    }

    [Fact]
    public void IPv6_IsCountedPer64_SoFreshAddressesOfOneHostShareTheLimit()
    {
        var pending = new PendingConnections(1);
        var metrics = new ServerMetrics();

        Assert.True(pending.TryAdmit(IPAddress.Parse("2001:db8:1:2::1"), null, metrics, ServerLog.Silent, out _));
        Assert.False(pending.TryAdmit(IPAddress.Parse("2001:db8:1:2:ffff::9"), null, metrics, ServerLog.Silent, out _));
        Assert.True(pending.TryAdmit(IPAddress.Parse("2001:db8:1:3::1"), null, metrics, ServerLog.Silent, out _));
        Assert.Equal(2, pending.Addresses);
    }

    [Fact]
    public void TrustedProxies_AndAZeroLimit_CountNothing()
    {
        var metrics = new ServerMetrics();
        Assert.True(TrustedProxies.TryParse("10.0.0.0/8", out var trusted, out _));
        var pending = new PendingConnections(1);
        for (int i = 0; i < 3; i++)
        {
            Assert.True(pending.TryAdmit(IPAddress.Parse("10.1.2.3"), trusted, metrics, ServerLog.Silent, out var key));
            Assert.Null(key);
        }
        var off = new PendingConnections(0);
        for (int i = 0; i < 3; i++) Assert.True(off.TryAdmit(IPAddress.Parse("203.0.113.7"), null, metrics, ServerLog.Silent, out _));
        Assert.Equal(0, pending.Addresses + off.Addresses);
        Assert.Equal(0, metrics.Refused(HandshakeRefusal.PendingPerAddress));
    }
}
