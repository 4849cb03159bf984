using Mtt.Core.Transport;
using System.Diagnostics;
using Mtt.Tests.Support;
using Xunit.Abstractions;

namespace Mtt.Tests.Mux;

/// <summary>
/// The deployed clients' own libraries against the server: a small client built at test time on
/// gorilla/websocket and xtaci/smux as Debian packages them (.ci/install-test-prerequisites.sh installs them).
/// Missing Go is a failure, not a skip: this test is the proof that real clients work.
/// </summary>
public sealed class SmuxGoInteropTests
{
    private const string GoPath = "/usr/share/gocode";
    private static readonly SemaphoreSlim BuildLock = new(1, 1);
    private static string? _builtClient;
    private readonly ITestOutputHelper _output;

    public SmuxGoInteropTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData(1, false, TlsEngine.SslStream)]
    [InlineData(2, false, TlsEngine.SslStream)]
    [InlineData(1, true, TlsEngine.SslStream)]
    [InlineData(2, true, TlsEngine.SslStream)]
    [InlineData(1, true, TlsEngine.OpenSsl)]
    [InlineData(2, true, TlsEngine.OpenSsl)]
    public async Task GoSmuxClient_SixteenStreams_EchoByteExact(int version, bool tls, TlsEngine engine)
    {
        string client = await BuildClientAsync();
        await using var backend = new EchoBackend();
        await using var server = TestServer.StartWithUser("/go", backend.Address, tls: tls, engine: engine);

        var (exitCode, output) = await RunAsync(client, $"-url {server.UriFor("/go")} -v {version} -streams 16 -bytes 1048576", TimeSpan.FromMinutes(2));
        _output.WriteLine(output);
        Assert.True(exitCode == 0, $"the Go client failed ({exitCode}): {output}");
        Assert.StartsWith("OK 16 streams", output);
        Assert.Equal(16, backend.Accepted);
    }

    private static async Task<string> BuildClientAsync()
    {
        await BuildLock.WaitAsync();
        try
        {
            if (_builtClient is not null) return _builtClient;
            string? go = FindGo();
            Assert.True(go is not null, "Go is not installed: run .ci/install-test-prerequisites.sh (apt-get install golang-go golang-github-gorilla-websocket-dev golang-github-xtaci-smux-dev)");
            foreach (var package in new[] { "github.com/xtaci/smux", "github.com/gorilla/websocket" })
            {
                Assert.True(Directory.Exists(Path.Combine(GoPath, "src", package)), $"{package} is not in {GoPath}: run .ci/install-test-prerequisites.sh");
            }

            string directory = Path.Combine(Path.GetTempPath(), "mtt-smux-go-client");
            Directory.CreateDirectory(directory);
            File.WriteAllText(Path.Combine(directory, "main.go"), GoClientSource);
            string binary = Path.Combine(directory, "smuxclient");
            var start = new ProcessStartInfo(go!, $"build -o {binary} main.go") { WorkingDirectory = directory };
            start.Environment["GO111MODULE"] = "off";
            start.Environment["GOPATH"] = GoPath;
            start.Environment["GOFLAGS"] = "";
            start.Environment["GOCACHE"] = Path.Combine(directory, "cache");
            var (exitCode, output) = await RunAsync(start, TimeSpan.FromMinutes(5));
            Assert.True(exitCode == 0, $"go build failed ({exitCode}): {output}");
            return _builtClient = binary;
        }
        finally
        {
            BuildLock.Release();
        }
    }

    private static string? FindGo()
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/lib/go/bin"))
        {
            string candidate = Path.Combine(directory, "go");
            if (directory.Length > 0 && File.Exists(candidate)) return candidate;
        }
        return null;
    }

    private static Task<(int ExitCode, string Output)> RunAsync(string file, string arguments, TimeSpan timeout) =>
        RunAsync(new ProcessStartInfo(file, arguments), timeout);

    private static async Task<(int ExitCode, string Output)> RunAsync(ProcessStartInfo start, TimeSpan timeout)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, (await stdout + await stderr).Trim());
    }

    private const string GoClientSource = """
// A minimal mtt-client stand-in: gorilla/websocket + xtaci/smux as the deployed clients use them.
package main

import (
	"bytes"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/xtaci/smux"
)

type wsConn struct {
	conn   *websocket.Conn
	reader io.Reader
}

func (c *wsConn) Read(b []byte) (int, error) {
	for {
		if c.reader == nil {
			_, r, err := c.conn.NextReader()
			if err != nil {
				return 0, err
			}
			c.reader = r
		}
		n, err := c.reader.Read(b)
		if n == 0 && err == io.EOF {
			c.reader = nil
			continue
		}
		return n, err
	}
}

func (c *wsConn) Write(b []byte) (int, error) {
	if err := c.conn.WriteMessage(websocket.BinaryMessage, b); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (c *wsConn) Close() error { return c.conn.Close() }

func main() {
	url := flag.String("url", "", "ws:// or wss:// URL")
	version := flag.Int("v", 1, "smux version")
	streams := flag.Int("streams", 16, "parallel streams")
	size := flag.Int("bytes", 1<<20, "bytes per stream")
	flag.Parse()

	dialer := websocket.Dialer{
		TLSClientConfig:  &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"},
		Subprotocols:     []string{"smux_on"},
		HandshakeTimeout: 10 * time.Second,
		NetDial:          func(network, addr string) (net.Conn, error) { return net.DialTimeout(network, addr, 10*time.Second) },
	}
	conn, _, err := dialer.Dial(*url, nil)
	if err != nil {
		fmt.Println("dial:", err)
		os.Exit(1)
	}
	config := smux.DefaultConfig()
	config.Version = *version
	config.KeepAliveInterval = 30 * time.Second
	config.KeepAliveTimeout = 70 * time.Second
	config.MaxFrameSize = 16 * 1024
	config.MaxReceiveBuffer = 256 * 1024
	config.MaxStreamBuffer = 64 * 1024
	session, err := smux.Client(&wsConn{conn: conn}, config)
	if err != nil {
		fmt.Println("smux:", err)
		os.Exit(1)
	}

	started := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, *streams)
	for i := 0; i < *streams; i++ {
		stream, err := session.OpenStream()
		if err != nil {
			fmt.Println("open:", err)
			os.Exit(1)
		}
		wg.Add(1)
		go func(i int, stream *smux.Stream) {
			defer wg.Done()
			defer stream.Close()
			payload := make([]byte, *size)
			rand.New(rand.NewSource(int64(i))).Read(payload)
			go func() {
				for sent := 0; sent < len(payload); sent += 20000 {
					end := sent + 20000
					if end > len(payload) {
						end = len(payload)
					}
					if _, err := stream.Write(payload[sent:end]); err != nil {
						return
					}
				}
			}()
			echo := make([]byte, len(payload))
			if _, err := io.ReadFull(stream, echo); err != nil {
				errs <- fmt.Errorf("stream %d: read: %v", i, err)
				return
			}
			if !bytes.Equal(echo, payload) {
				errs <- fmt.Errorf("stream %d: echo differs", i)
			}
		}(i, stream)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		fmt.Println(err)
		os.Exit(1)
	}
	elapsed := time.Since(started).Seconds()
	total := float64(*streams) * float64(*size)
	fmt.Printf("OK %d streams, %.1f MB each way in %.2f s, %.1f MB/s each way\n", *streams, total/1e6, elapsed, total/1e6/elapsed)
	session.Close()
}
""";
}
