// A tiny pipelining Redis client over node:net (RESP2): commands are written
// as they come, replies matched to them in order. Enough for GEOADD, ZREM,
// GEOSEARCH, PING, INFO; no new npm dependency.
import { connect, type Socket } from 'node:net';

export type Reply = string | number | null | Reply[] | RedisError;
export class RedisError extends Error {}

export class Resp {
  private sock!: Socket;
  private buf: Buffer = Buffer.alloc(0);
  private readonly waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  private closed = false;

  static async connect(host: string, port: number): Promise<Resp> {
    const c = new Resp();
    await new Promise<void>((resolve, reject) => {
      c.sock = connect({ host, port }, () => resolve());
      c.sock.once('error', reject);
    });
    c.sock.setNoDelay(true);
    c.sock.on('data', (d: Buffer) => c.onData(d));
    c.sock.on('error', (e) => c.failAll(e));
    c.sock.on('close', () => c.failAll(new Error('redis connection closed')));
    return c;
  }

  /** Send one command; resolves with its reply (an error reply resolves as RedisError). */
  send(args: (string | number)[]): Promise<Reply> {
    if (this.closed) return Promise.reject(new Error('redis connection closed'));
    this.sock.write(encode(args));
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** A pipeline: every command in one write; resolves with their replies, in order (error replies as RedisError). */
  sendMany(cmds: (string | number)[][]): Promise<Reply[]> {
    if (this.closed) return Promise.reject(new Error('redis connection closed'));
    let s = '';
    for (const args of cmds) s += encode(args);
    const replies = cmds.map(() => new Promise<Reply>((resolve, reject) => this.waiting.push({ resolve, reject })));
    this.sock.write(s);
    return Promise.all(replies);
  }

  close(): void {
    this.closed = true;
    this.sock.end();
  }

  private failAll(e: Error): void {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.reject(e);
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    let at = 0;
    for (;;) {
      const r = parse(this.buf, at);
      if (r === undefined) break;
      at = r[1];
      this.waiting.shift()?.resolve(r[0]);
    }
    this.buf = at === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(at);
  }
}

/** One command in RESP2: an array of bulk strings. */
function encode(args: (string | number)[]): string {
  let s = `*${args.length}\r\n`;
  for (const a of args) {
    const x = String(a);
    s += `$${Buffer.byteLength(x)}\r\n${x}\r\n`;
  }
  return s;
}

/** Parse one reply at `at`: [reply, next offset], or undefined when incomplete. */
function parse(b: Buffer, at: number): [Reply, number] | undefined {
  if (at >= b.length) return undefined;
  const eol = b.indexOf('\r\n', at);
  if (eol < 0) return undefined;
  const type = b[at]!,
    line = b.toString('latin1', at + 1, eol),
    next = eol + 2;
  switch (type) {
    case 0x2b:
      return [line, next]; // +
    case 0x2d:
      return [new RedisError(line), next]; // -
    case 0x3a:
      return [Number(line), next]; // :
    case 0x24: {
      // $
      const n = Number(line);
      if (n < 0) return [null, next];
      if (next + n + 2 > b.length) return undefined;
      return [b.toString('utf8', next, next + n), next + n + 2];
    }
    case 0x2a: {
      // *
      const n = Number(line);
      if (n < 0) return [null, next];
      const out: Reply[] = [];
      let p = next;
      for (let i = 0; i < n; i++) {
        const r = parse(b, p);
        if (r === undefined) return undefined;
        out.push(r[0]);
        p = r[1];
      }
      return [out, p];
    }
    default:
      throw new Error(`bad RESP reply type ${String.fromCharCode(type)}`);
  }
}
