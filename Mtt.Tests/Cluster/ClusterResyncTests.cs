using System.Text;
using System.Text.RegularExpressions;

namespace Mtt.Tests.Cluster;

/// <summary>A large table (40,000 users) loads in full into an instance that joins the cluster.</summary>
public sealed partial class ClusterResyncTests
{
    private const int Users = 40_000;

    // Each command stays well under the controller's 2 MiB body limit.
    private const int PerCommand = 20_000;

    [Fact]
    public async Task FortyThousandUsers_ResyncIntoAJoiningInstance()
    {
        await using var rig = await ClusterRig.StartAsync(1);
        var a = rig.Instances[0];
        for (int start = 0; start < Users; start += PerCommand)
        {
            var body = new StringBuilder("""{"opt":1,"args_bunch":[""");
            for (int i = start; i < start + PerCommand; i++)
                body.Append(i == start ? "" : ",").Append($$"""{"path":"/u{{i}}","dst":"{{rig.Backend.Address}}","name":"acct-{{i}}"}""");
            body.Append("]}");
            var reply = await rig.PostAsync(a, body.ToString());
            Assert.True(reply.GetProperty("res").GetInt32() == 1, reply.ToString());
        }

        var joining = await rig.StartInstanceAsync();
        await joining.Daemon.WaitForStderrAsync($"resynced from Redis (start): {Users} users").WaitAsync(ClusterRig.Bound);
        Assert.Equal(Users, (await rig.PostAsync(joining, """{"opt":9}""")).GetProperty("current_users").GetInt32());
        Assert.True(await ClusterRig.ServesAsync(joining, "/u0"));
        Assert.True(await ClusterRig.ServesAsync(joining, $"/u{Users - 1}"));
        // How long it takes is measured in docs/benchmarks.md ("Scale-out on Redis"), not timed here: the line names the
        // version the table was loaded at.
        Assert.Matches(ResyncLine(), joining.Daemon.Stderr);
    }

    [GeneratedRegex(@"resynced from Redis \(start\): 40000 users at table version \d+ in \d+ ms")]
    private static partial Regex ResyncLine();
}
