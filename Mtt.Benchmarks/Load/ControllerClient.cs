using System.Net.Http.Headers;
using System.Text;

namespace Mtt.Benchmarks.Load;

/// <summary>Talks to the server's controller the way operators' scripts do: a JSON POST over HTTP/1.1.</summary>
internal sealed class ControllerClient : IDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private readonly HttpClient _http;
    private readonly Uri _uri;

    public ControllerClient(int port)
    {
        _http = new HttpClient { Timeout = RequestTimeout };
        _uri = new Uri($"http://127.0.0.1:{port}/");
    }

    /// <summary>opt 9; true when the controller answered res 1.</summary>
    public async Task<bool> PingAsync()
    {
        try
        {
            return IsSuccess(await PostAsync("""{"opt":9}""").ConfigureAwait(false));
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>opt 1 with one user; throws with the server's answer when it is not res 1.</summary>
    public async Task AddUserAsync(string path, string destination)
    {
        string body = $$"""{"opt":1,"args_bunch":[{"path":"{{path}}","dst":"{{destination}}"}]}""";
        string answer = await PostAsync(body).ConfigureAwait(false);
        if (!IsSuccess(answer)) throw new InvalidOperationException($"the controller refused {body}: {answer}");
    }

    public void Dispose() => _http.Dispose();

    private async Task<string> PostAsync(string json)
    {
        using var content = new StringContent(json, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await _http.PostAsync(_uri, content).ConfigureAwait(false);
        return await response.Content.ReadAsStringAsync().ConfigureAwait(false);
    }

    private static bool IsSuccess(string answer) => answer.Replace(" ", "", StringComparison.Ordinal).Contains("\"res\":1", StringComparison.Ordinal);
}
