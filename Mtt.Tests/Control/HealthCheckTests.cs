using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Mtt.Tests.Control;

/// <summary><c>GET /healthz</c>: 200 while serving, 503 once the drain has started, under the same token rules as every request.</summary>
public sealed class HealthCheckTests
{
    private const string Token = "h3alth-Token";

    [Fact]
    public async Task Healthz_Is200WhileServing_503OnceDraining_WhileCommandsStillWork()
    {
        await using var controller = RunningController.Start();

        using (var serving = await controller.Http.GetAsync("/healthz").WaitAsync(RunningController.Bound))
        {
            Assert.Equal(HttpStatusCode.OK, serving.StatusCode);
            Assert.Equal("""{"res":1}""", await serving.Content.ReadAsStringAsync());
        }
        using (var withQuery = await controller.Http.GetAsync("/healthz?probe=lb").WaitAsync(RunningController.Bound))
            Assert.Equal(HttpStatusCode.OK, withQuery.StatusCode);

        controller.Server.MarkDraining();

        using (var draining = await controller.Http.GetAsync("/healthz").WaitAsync(RunningController.Bound))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, draining.StatusCode);
            using var reply = JsonDocument.Parse(await draining.Content.ReadAsStringAsync());
            Assert.Equal(2, reply.RootElement.GetProperty("res").GetInt32());
            Assert.StartsWith("draining", reply.RootElement.GetProperty("err_string").GetString());
            Assert.True(draining.Headers.ConnectionClose);
        }
        // The drain still saves user changes: the controller keeps answering commands.
        var (status, ping, _) = await controller.PostAsync("""{"opt":9}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1, ping.GetProperty("res").GetInt32());
    }

    [Fact]
    public async Task Healthz_WithATokenSet_IsRefusedWithoutIt_AndAnsweredWithIt()
    {
        await using var controller = RunningController.StartWithToken(Token);

        using (var anonymous = await controller.Http.GetAsync("/healthz").WaitAsync(RunningController.Bound))
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var response = await controller.Http.SendAsync(request).WaitAsync(RunningController.Bound);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("/healthzx")]
    [InlineData("/healthz/")]
    [InlineData("/health")]
    public async Task OtherGetTargets_Stay405(string target)
    {
        await using var controller = RunningController.Start();
        using var response = await controller.Http.GetAsync(target).WaitAsync(RunningController.Bound);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    [Fact]
    public async Task Healthz_WithABody_Is400()
    {
        await using var controller = RunningController.Start();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/healthz") { Content = new StringContent("x") };
        using var response = await controller.Http.SendAsync(request).WaitAsync(RunningController.Bound);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
