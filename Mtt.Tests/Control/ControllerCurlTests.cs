using System.Diagnostics;

namespace Mtt.Tests.Control;

/// <summary>
/// docs/protocol.md §5.1: <c>curl -d @users.json http://127.0.0.1:8080</c> must work as it is. curl is
/// part of the project's machines (Debian's curl package), so this runs the real client.
/// </summary>
public class ControllerCurlTests
{
    [Fact]
    public async Task CurlPostingALargeUsersFile_GetsContinueAndIsApplied()
    {
        await using var controller = RunningController.Start();
        string file = Path.Combine(Path.GetTempPath(), $"mtt-users-{Guid.NewGuid():N}.json");
        // Over 1 MiB, so curl sends Expect: 100-continue and waits for the interim answer.
        await File.WriteAllTextAsync(file, UserBodies.Add(30_000));
        try
        {
            var start = new ProcessStartInfo("curl")
            {
                ArgumentList = { "-sS", "-v", "--max-time", "10", "-d", "@" + file, $"http://127.0.0.1:{controller.Server.LocalEndPoint.Port}" },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var curl = Process.Start(start)!;
            var stdout = curl.StandardOutput.ReadToEndAsync();
            var stderr = curl.StandardError.ReadToEndAsync();
            await curl.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));

            Assert.Equal(0, curl.ExitCode);
            Assert.Contains("> Expect: 100-continue", await stderr);
            Assert.Contains("< HTTP/1.1 100 Continue", await stderr);
            Assert.Equal("""{"res":1}""", await stdout);
            Assert.Equal(30_000, controller.Routes.Current.Count);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
