// The Go anchor of the load harness: the original server's stack (crypto/tls, net/http, gorilla/websocket,
// xtaci/smux, as Debian packages them), so every TLS figure of mtt-mu-server can be read as a ratio to it.
//
//	anchor -route /load=127.0.0.1:9000 [-route ...] [-smux-version 1|2] [-plain]   a WebSocket tunnel server
//	anchor -relay 127.0.0.1:9000 [-plain]                                        a crypto/tls TCP relay (the Go floor)
//
// It prints "anchor ready <mode> <address>" once it listens. Built by the harness with GO111MODULE=off against
// /usr/share/gocode; never committed as a binary.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/xtaci/smux"
)

// A copy buffer of io.Copy's size; pooled, as the original server pools its relay buffers.
const copyBufferSize = 32 * 1024

var bufferPool = sync.Pool{New: func() any { b := make([]byte, copyBufferSize); return &b }}

type routeFlag map[string]string

func (r routeFlag) String() string { return fmt.Sprint(map[string]string(r)) }

func (r routeFlag) Set(value string) error {
	path, dst, ok := strings.Cut(value, "=")
	if !ok || !strings.HasPrefix(path, "/") || dst == "" {
		return fmt.Errorf("want /path=host:port, got %q", value)
	}
	r[path] = dst
	return nil
}

func main() {
	routes := routeFlag{}
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	relay := flag.String("relay", "", "relay every connection to this host:port (a TCP relay, no WebSocket)")
	plain := flag.Bool("plain", false, "no TLS")
	smuxVersion := flag.Int("smux-version", 1, "smux protocol version of smux_on sessions (1 or 2)")
	flag.Var(routes, "route", "/path=host:port (repeatable)")
	flag.Parse()
	if (*relay == "") == (len(routes) == 0) {
		fmt.Fprintln(os.Stderr, "anchor: give -route (tunnel server) or -relay (TCP relay), not both")
		os.Exit(2)
	}

	listener, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "anchor: listen:", err)
		os.Exit(1)
	}
	if !*plain {
		listener = tls.NewListener(listener, &tls.Config{Certificates: []tls.Certificate{selfSigned()}})
	}
	mode := "tunnel"
	if *relay != "" {
		mode = "relay"
	}
	fmt.Printf("anchor ready %s %s\n", mode, listener.Addr())

	if *relay != "" {
		serveRelay(listener, *relay)
		return
	}
	smuxConfig := smux.DefaultConfig()
	smuxConfig.Version = *smuxVersion
	// Frames of at most 16 KiB of data, as mtt-mu-server sends (docs/protocol.md §4.4), so both servers are compared
	// at the same framing work per byte (xtaci/smux's default is 32 KiB).
	smuxConfig.MaxFrameSize = 16 * 1024
	if err := smux.VerifyConfig(smuxConfig); err != nil {
		fmt.Fprintln(os.Stderr, "anchor:", err)
		os.Exit(2)
	}
	server := &tunnelServer{
		routes: routes,
		smux:   smuxConfig,
		upgrader: websocket.Upgrader{
			// 0: the HTTP server's own buffers are reused, as the original server does.
			ReadBufferSize:   0,
			WriteBufferSize:  0,
			HandshakeTimeout: 10 * time.Second,
			Subprotocols:     []string{"smux_on", "smux_off"},
			CheckOrigin:      func(*http.Request) bool { return true },
		},
	}
	fmt.Fprintln(os.Stderr, "anchor: serve:", http.Serve(listener, server))
}

func serveRelay(listener net.Listener, dst string) {
	for {
		client, err := listener.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "anchor: accept:", err)
			return
		}
		go func() {
			backend, err := net.DialTimeout("tcp", dst, 10*time.Second)
			if err != nil {
				client.Close()
				return
			}
			pipe(client, backend)
		}()
	}
}

type tunnelServer struct {
	routes   routeFlag
	smux     *smux.Config
	upgrader websocket.Upgrader
}

func (s *tunnelServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	dst, ok := s.routes[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	client := &wsConn{conn: ws}
	if ws.Subprotocol() != "smux_on" {
		backend, err := net.DialTimeout("tcp", dst, 10*time.Second)
		if err != nil {
			ws.Close()
			return
		}
		pipe(client, backend)
		return
	}
	session, err := smux.Server(client, s.smux)
	if err != nil {
		ws.Close()
		return
	}
	defer session.Close()
	for {
		stream, err := session.AcceptStream()
		if err != nil {
			// A client's close (1000) is how every session ends; anything else is worth a line.
			if !websocket.IsCloseError(err, websocket.CloseNormalClosure) && err != io.ErrClosedPipe {
				fmt.Fprintln(os.Stderr, "anchor: session ended:", err)
			}
			return
		}
		go func() {
			backend, err := net.DialTimeout("tcp", dst, 10*time.Second)
			if err != nil {
				stream.Close()
				return
			}
			pipe(stream, backend)
		}()
	}
}

// pipe copies both ways until either side ends, then closes both.
func pipe(a, b io.ReadWriteCloser) {
	done := make(chan struct{}, 2)
	copyOne := func(dst io.Writer, src io.Reader) {
		buf := bufferPool.Get().(*[]byte)
		io.CopyBuffer(dst, src, *buf)
		bufferPool.Put(buf)
		done <- struct{}{}
	}
	go copyOne(a, b)
	go copyOne(b, a)
	<-done
	a.Close()
	b.Close()
	<-done
}

// wsConn is a WebSocket as a byte stream: every Write one binary message, reads across message boundaries.
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
		if err == io.EOF {
			c.reader = nil
			if n == 0 {
				continue
			}
			err = nil
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

// selfSigned makes an ECDSA P-256 certificate in memory, as mtt-mu-server's -force-tls does.
func selfSigned() tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	template := x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:    time.Now().Add(-24 * time.Hour),
		NotAfter:     time.Now().AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, &template, &template, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
