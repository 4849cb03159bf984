using System.Text;

namespace Mtt.Tests.Control;

/// <summary>Command bodies shaped like the ones operators' scripts send.</summary>
internal static class UserBodies
{
    /// <summary><c>{"opt":1,"args_bunch":[{"path":"/path_0","dst":"127.0.0.1:10000"},...]}</c>: about 45 bytes a user.</summary>
    public static string Add(int count, string prefix = "/path_")
    {
        var json = new StringBuilder(count * 48 + 32).Append("""{"opt": 1, "args_bunch": [""");
        for (int i = 0; i < count; i++)
        {
            if (i > 0) json.Append(", ");
            json.Append($$"""{"path": "{{prefix}}{{i}}", "dst": "127.0.0.1:{{10000 + i % 50000}}"}""");
        }
        return json.Append("]}").ToString();
    }

    public static string Add(string path, string dst) => $$"""{"opt":1,"args_bunch":[{"path":"{{path}}","dst":"{{dst}}"}]}""";

    /// <summary>An add of one user padded with trailing whitespace to exactly <paramref name="totalBytes"/>.</summary>
    public static byte[] PaddedAdd(string path, int totalBytes)
    {
        byte[] command = Encoding.UTF8.GetBytes(Add(path, "127.0.0.1:9000"));
        byte[] body = new byte[totalBytes];
        body.AsSpan().Fill((byte)' ');
        command.CopyTo(body, 0);
        return body;
    }
}
