// Node's tls as a returning client (run by Mtt.Tests/Interop/NodeTlsResumptionTests.cs): a browser or Node that keeps
// its TLS sessions comes back with one. One argument, a JSON object: { port, path }
// Connects twice with a full handshake (first, again), each time sending the WebSocket upgrade request and counting
// the TLS 1.3 session tickets that arrived before the 101; then connects a third time offering the last ticket
// (resumed), and reports whether the server resumed and answered 101 again.
// Prints one line, "RESULT <json>", and exits 0 (the test judges the result) or 1 on a broken run.
import tls from 'node:tls';

// Far above what a healthy run takes, below the test's own bound on the process.
const RunTimeoutMs = 30_000;

const options = JSON.parse(process.argv[2] ?? '{}');
setTimeout(() => finish({ ok: false, error: `no result within ${RunTimeoutMs} ms` }, 1), RunTimeoutMs).unref();

function finish(result, exitCode = 0) {
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(exitCode);
}

// One connection: TLS (offering `session` when given), the upgrade request, the response head. The server writes its
// tickets right after the handshake, before it reads the request, so all of them have arrived once the 101 has.
function visit(session) {
  return new Promise((resolve, reject) => {
    const tickets = [];
    const socket = tls.connect({ host: '127.0.0.1', port: options.port, servername: 'localhost', rejectUnauthorized: false, session });
    socket.on('session', (ticket) => tickets.push(ticket));
    socket.on('error', reject);
    let head = '';
    socket.on('secureConnect', () => {
      socket.write(`GET ${options.path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: smux_off\r\n\r\n');
    });
    socket.on('data', (chunk) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const result = { version: socket.getProtocol(), reused: socket.isSessionReused(), status: head.split(' ')[1], tickets: tickets.length };
      socket.destroy();
      resolve({ result, last: tickets.at(-1) });
    });
    socket.on('end', () => reject(new Error(`the server closed before the response head: ${JSON.stringify(head)}`)));
  });
}

async function run() {
  const first = await visit(undefined);
  const again = await visit(undefined);
  if (again.last === undefined) return { ok: true, first: first.result, again: again.result, resumed: null };
  const resumed = await visit(again.last);
  return { ok: true, first: first.result, again: again.result, resumed: resumed.result };
}

run().then((result) => finish(result), (error) => finish({ ok: false, error: String(error?.stack ?? error) }, 1));
