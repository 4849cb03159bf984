// The echo exchange both independent clients run: Node's ws (echo-client.mjs) and Chromium's own
// WebSocket (echo-page.html, which imports this file from the test's page host). Only the browser
// WebSocket API is used (ws implements it too), so both run the same code.
//
// Data: one xorshift32 byte stream from a seed (SeededBytes.cs computes the same in the test), cut into
// one binary message per size. The server relays a byte stream, not messages (PROTOCOL.md section 3),
// so the echo is read as a stream: each message's bytes must come back before the next is sent.

/** xorshift32 (Marsaglia 2003), one byte (the low 8 bits) per step; a zero seed would stay zero, so it becomes 1. */
export class SeededBytes {
  constructor(seed) {
    this.state = (seed >>> 0) || 1;
  }

  next(count) {
    const bytes = new Uint8Array(count);
    let x = this.state;
    for (let i = 0; i < count; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      bytes[i] = x & 0xff;
    }
    this.state = x;
    return bytes;
  }
}

export function toHex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Resolves with the socket once open; rejects on error or a close before open. */
export function opened(socket) {
  return new Promise((resolve, reject) => {
    socket.onopen = () => resolve(socket);
    socket.onerror = (event) => reject(new Error(`error before open: ${event.message ?? 'no detail (browser)'}`));
    socket.onclose = (event) => reject(new Error(`closed before open: ${event.code}`));
  });
}

/** Resolves with the close event's code and reason, whoever started the close. */
export function closed(socket) {
  return new Promise((resolve) => {
    socket.addEventListener('close', (event) => resolve({ code: event.code, reason: event.reason, wasClean: event.wasClean }));
  });
}

/**
 * Sends one binary message per size (consecutive pieces of the seeded stream) on an open socket whose
 * binaryType is 'arraybuffer', waits for each one's bytes to come back, and checks every byte.
 * Returns { ok, bytes, sha256 (of every byte received), messagesReceived, error }.
 */
export async function echo(socket, seed, sizes) {
  const total = sizes.reduce((a, b) => a + b, 0);
  const expected = new SeededBytes(seed).next(total);
  const received = new Uint8Array(total);
  let count = 0;
  let messagesReceived = 0;
  let failure = null;
  let wake = null;

  socket.onmessage = (event) => {
    if (typeof event.data === 'string') failure ??= `a text message came back: ${event.data.length} chars`;
    else {
      const piece = new Uint8Array(event.data);
      messagesReceived++;
      if (count + piece.length > total) failure ??= `more bytes than were sent: ${count + piece.length} > ${total}`;
      else {
        received.set(piece, count);
        count += piece.length;
      }
    }
    wake?.();
  };
  const ended = closed(socket).then((close) => {
    failure ??= `closed by the server after ${count} of ${total} bytes: ${close.code} ${close.reason}`;
    wake?.();
  });

  let sent = 0;
  for (const size of sizes) {
    socket.send(expected.subarray(sent, sent + size));
    sent += size;
    while (count < sent && failure === null) await new Promise((resolve) => { wake = resolve; });
    if (failure !== null) break;
  }
  void ended;

  if (failure === null) {
    for (let i = 0; i < total; i++) {
      if (received[i] !== expected[i]) {
        failure = `byte ${i} differs: sent ${expected[i]}, got ${received[i]}`;
        break;
      }
    }
  }
  const sha256 = toHex(await crypto.subtle.digest('SHA-256', received.subarray(0, count)));
  return { ok: failure === null, bytes: count, sha256, messagesReceived, error: failure };
}
