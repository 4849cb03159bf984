using System.Security.Cryptography;
using Mtt.Tests.Support;

namespace Mtt.Tests.Packaging;

/// <summary>The x64 .deb, unpacked into a scratch root as dpkg would install it, and the checksums of the release.</summary>
[Collection(ReleaseFilesCollection.Name)]
public sealed class DebPackageTests(ReleaseFiles release)
{
    [Fact]
    public void Deb_InstallsTheBinaryUnitAndEntries_AndSystemdAcceptsTheUnit()
    {
        using var root = new TemporaryDirectory();
        string deb = release.File($"mtt-mu-server_{release.Version}_amd64.deb");
        var (extracted, extractOutput) = ReleaseFiles.Run("dpkg-deb", ["-x", deb, root.Path]);
        Assert.True(extracted == 0, extractOutput);
        var (_, fields) = ReleaseFiles.Run("dpkg-deb", ["-f", deb, "Package", "Version", "Architecture"]);
        Assert.Equal($"Package: mtt-mu-server\nVersion: {release.Version}\nArchitecture: amd64\n", fields);

        foreach (string file in new[]
        {
            "opt/mtt-mu-server/mtt-mu-server", "lib/systemd/system/mtt-mu-server.service", "usr/lib/sysusers.d/mtt-mu-server.conf",
            "usr/lib/tmpfiles.d/mtt-mu-server.conf", "usr/share/doc/mtt-mu-server/env.example",
        })
        {
            Assert.True(File.Exists(Path.Combine(root.Path, file)), $"{file} is not in the package");
        }
        Assert.Equal("/opt/mtt-mu-server/mtt-mu-server", new FileInfo(Path.Combine(root.Path, "usr/bin/mtt-mu-server")).LinkTarget);
        string unit = File.ReadAllText(Path.Combine(root.Path, "lib/systemd/system/mtt-mu-server.service"));
        Assert.Contains("\nType=notify\n", unit);
        Assert.Contains("\nWatchdogSec=", unit);

        // The installed binary runs and names its version and commit.
        var (versionExit, version) = ReleaseFiles.Run(Path.Combine(root.Path, "opt/mtt-mu-server/mtt-mu-server"), ["-version"]);
        Assert.Equal(0, versionExit);
        var (_, head) = ReleaseFiles.Run("git", ["-C", release.RepositoryRoot, "rev-parse", "HEAD"]);
        Assert.StartsWith($"mtt-mu-server {release.Version} (commit {head.Trim()}", version);

        // systemd's own check of the unit, with ExecStart pointed at the unpacked binary (verify checks that it is
        // executable; --root would want a whole system there). It prints every line it ignores, so no output is the pass.
        string unitCopy = Path.Combine(root.Path, "mtt-mu-server.service");
        File.WriteAllText(unitCopy, unit.Replace("/opt/mtt-mu-server/mtt-mu-server", Path.Combine(root.Path, "opt/mtt-mu-server/mtt-mu-server")));
        var (verified, verifyOutput) = ReleaseFiles.Run("systemd-analyze", ["verify", unitCopy]);
        Assert.True(verified == 0 && verifyOutput.Trim().Length == 0, verifyOutput);
    }

    [Fact]
    public void Sha256Sums_CoverEveryReleaseFile_AndMatch()
    {
        string[] lines = File.ReadAllLines(release.File("SHA256SUMS"));
        var names = lines.Select(line => line.Split("  ")[1]).ToHashSet();
        Assert.Equal(
            new HashSet<string>
            {
                "mtt-mu-server-linux-x64", $"mtt-mu-server-{release.Version}-linux-x64.tar.gz", $"mtt-mu-server_{release.Version}_amd64.deb",
                "mtt-mu-server-linux-arm64", $"mtt-mu-server-{release.Version}-linux-arm64.tar.gz", $"mtt-mu-server_{release.Version}_arm64.deb",
            },
            names);
        foreach (string line in lines)
        {
            var parts = line.Split("  ");
            Assert.Equal(parts[0], Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(release.File(parts[1])))));
        }
    }
}
