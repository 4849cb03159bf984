using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Mtt.Core.Control.Http;

namespace Mtt.Tests.Control;

/// <summary><c>-c-token</c>: every controller request, the metrics scrape included, needs the bearer token.</summary>
public sealed class ControllerTokenTests
{
    private const string Token = "s3cret-Token_1.2~3+4/5==";
    private const string AddUser = """{"opt":1,"args_bunch":[{"path":"/u1","dst":"127.0.0.1:9"}]}""";

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer wrong")]
    [InlineData("Bearer s3cret-Token_1.2~3+4/5=")]
    [InlineData("Bearer s3cret-Token_1.2~3+4/5===")]
    [InlineData("Basic czNjcmV0")]
    [InlineData("Bearer")]
    [InlineData("Bearers3cret-Token_1.2~3+4/5==")]
    public async Task Command_WithoutTheRightToken_Gets401WithAJsonBody_AndChangesNothing(string? authorization)
    {
        await using var controller = RunningController.StartWithToken(Token);
        using var request = Post(AddUser, authorization);

        using var response = await controller.Http.SendAsync(request).WaitAsync(RunningController.Bound);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
        using var reply = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(2, reply.RootElement.GetProperty("res").GetInt32());
        Assert.Contains("bearer token", reply.RootElement.GetProperty("err_string").GetString());
        Assert.Equal(0, controller.Routes.Current.Count);
    }

    [Theory]
    [InlineData("Bearer " + Token)]
    [InlineData("bearer " + Token)]
    [InlineData("Bearer   " + Token)]
    public async Task Command_WithTheToken_IsApplied(string authorization)
    {
        await using var controller = RunningController.StartWithToken(Token);
        using var request = Post(AddUser, authorization);

        using var response = await controller.Http.SendAsync(request).WaitAsync(RunningController.Bound);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"res":1}""", await response.Content.ReadAsStringAsync());
        Assert.Equal(1, controller.Routes.Current.Count);
    }

    [Fact]
    public async Task MetricsScrape_NeedsTheTokenToo()
    {
        await using var controller = RunningController.StartWithToken(Token);

        using var refused = await controller.Http.GetAsync("/metrics").WaitAsync(RunningController.Bound);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.StartsWith("{\"res\":2", await refused.Content.ReadAsStringAsync());

        using var scrape = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        scrape.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var served = await controller.Http.SendAsync(scrape).WaitAsync(RunningController.Bound);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Contains("mtt_tunnels_opened_total", await served.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task TwoAuthorizationHeaders_AreRefused_EvenIfOneIsRight()
    {
        await using var controller = RunningController.StartWithToken(Token);
        await using var connection = await controller.ConnectAsync();

        await connection.SendAsync($"GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {Token}\r\nAuthorization: Bearer {Token}\r\n\r\n");
        var response = await connection.ReadResponseAsync().WaitAsync(RunningController.Bound);

        Assert.Equal(401, response.Status);
        Assert.Equal("Bearer", response.Header("WWW-Authenticate"));
    }

    [Fact]
    public async Task LongestToken_IsAdmitted_AndOneCharacterMoreIsNot()
    {
        string longest = new('a', ControllerToken.MaxLength);
        await using var controller = RunningController.StartWithToken(longest);

        using var admitted = await controller.Http.SendAsync(Post(AddUser, "Bearer " + longest)).WaitAsync(RunningController.Bound);
        using var refused = await controller.Http.SendAsync(Post(AddUser, "Bearer " + longest + "a")).WaitAsync(RunningController.Bound);

        Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task WithoutAToken_NoHeaderIsNeeded()
    {
        await using var controller = RunningController.Start();
        var (status, _, body) = await controller.PostAsync(AddUser);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("""{"res":1}""", body);
    }

    [Theory]
    [InlineData("")]
    [InlineData("=")]
    [InlineData("has space")]
    [InlineData("a=b")]
    [InlineData("ü")]
    [InlineData("x", 1025)]
    public void Token_ThatCannotBeSentAsABearerToken_IsInvalid(string token, int repeat = 1)
    {
        token = string.Concat(Enumerable.Repeat(token, repeat));
        Assert.False(ControllerToken.IsValid(token));
        Assert.Throws<ArgumentException>(() => new ControllerToken(token));
    }

    private static HttpRequestMessage Post(string json, string? authorization)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new StringContent(json, Encoding.UTF8, "application/x-www-form-urlencoded") };
        if (authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", authorization);
        return request;
    }
}
