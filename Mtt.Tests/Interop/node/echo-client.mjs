// Node's ws package as an independent client of the server (run by Mtt.Tests/Interop/NodeWsInteropTests.cs).
// One argument, a JSON object: { mode, url, seed?, sizes?, protocol?, ca?, insecure? }
//   echo        send the seeded messages, check the echo byte for byte, then close with 1000
//   text        send one text message and report how the server closes
//   until-close send nothing; report what arrives and how the server closes
//   refused     expect the upgrade to fail and report ws's error
// Prints one line, "RESULT <json>", and exits 0 (the test judges the result) or 1 on a broken run.
import { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { closed, echo, opened } from './echo-session.mjs';

// Far above what a healthy run takes (well under a second), below the test's own bound on the process.
const RunTimeoutMs = 45_000;
const HandshakeTimeoutMs = 15_000;

// echo-session.mjs hashes with the browser's crypto.subtle, global only from Node 19 (Debian 12 has 18).
globalThis.crypto ??= webcrypto;

const options = JSON.parse(process.argv[2] ?? '{}');
setTimeout(() => finish({ ok: false, error: `no result within ${RunTimeoutMs} ms` }, 1), RunTimeoutMs).unref();

function finish(result, exitCode = 0) {
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(exitCode);
}

function connect() {
  const tls = {};
  if (options.ca) {
    tls.ca = readFileSync(options.ca);
    tls.servername = 'localhost';
  } else if (options.insecure) {
    tls.rejectUnauthorized = false;
  }
  const socket = new WebSocket(options.url, options.protocol ? [options.protocol] : [], { ...tls, handshakeTimeout: HandshakeTimeoutMs });
  socket.binaryType = 'arraybuffer';
  return socket;
}

async function run() {
  const socket = connect();
  if (options.mode === 'refused') {
    const error = await new Promise((resolve) => {
      socket.on('error', (e) => resolve(e.message));
      socket.on('open', () => resolve(null));
    });
    socket.terminate();
    return { ok: error !== null, error };
  }

  // Listening before the open event: ws hands over frames that came in the same read as the 101 in
  // the same turn as 'open', before an await after it resumes.
  const pieces = [];
  socket.onmessage = (event) => pieces.push(Buffer.from(event.data));
  const close = closed(socket);
  await opened(socket);
  const protocol = socket.protocol;
  const extensions = socket.extensions;

  if (options.mode === 'echo') {
    const result = await echo(socket, options.seed, options.sizes);
    socket.close(1000, 'done');
    return { ...result, protocol, extensions, close: await close };
  }
  if (options.mode === 'text') {
    socket.send('hello from ws');
    return { ok: true, protocol, close: await close };
  }
  if (options.mode === 'until-close') {
    const end = await close;
    return { ok: true, protocol, text: Buffer.concat(pieces).toString('utf8'), close: end };
  }
  throw new Error(`unknown mode ${options.mode}`);
}

run().then((result) => finish(result), (error) => finish({ ok: false, error: String(error?.stack ?? error) }, 1));
