// What every part of the bridge shares: limits, the origin/host checks, message frames, clocks.
import type { IncomingMessage } from 'node:http';
import { BRIDGE_MAX_MESSAGE_BYTES } from './protocol.ts';

/** The bridge listens here only. */
export const LOOPBACK = '127.0.0.1';
/** Largest WebSocket frame a bridge server or client accepts (the control socket's cap too). */
export const MAX_PAYLOAD_BYTES = BRIDGE_MAX_MESSAGE_BYTES;
/**
 * Slow consumers: a WebSocket whose unsent backlog (`bufferedAmount`) or an HTTP stream whose
 * `write()` backlog passes this is disconnected, so one client that stops reading cannot grow a
 * server's memory without bound. 1 MiB per connection.
 */
export const SLOW_CONSUMER_BYTES = 1024 * 1024;
/** Connections one bridge run will open (measured: see ARCHITECTURE.md, "The bridge"). */
export const MAX_BRIDGE_CONNECTIONS = 2_000;

/** Wall clock in nanoseconds (monotonic). The load generator stamps and measures with it. */
export const nowNs = (): bigint => process.hrtime.bigint();
/** Wall clock in microseconds as a number (monotonic). */
export const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** Origins a browser page of the lab may have; CLI clients send none. */
export function originAllowed(origin: string | undefined): boolean {
  if (origin === undefined || origin === '') return true;
  return /^http:\/\/(localhost|127\.0\.0\.1)(:\d{1,5})?$/.test(origin);
}

/**
 * The Host header must name a loopback address (a DNS-rebinding guard: a page on evil.example
 * that resolves to 127.0.0.1 still sends `Host: evil.example`). With `port`, that port only.
 */
export function hostAllowed(host: string | undefined, port?: number): boolean {
  if (host === undefined) return false;
  const m = /^(127\.0\.0\.1|localhost)(?::(\d{1,5}))?$/.exec(host);
  return m !== null && (port === undefined || Number(m[2]) === port);
}

/** Both checks for an HTTP request or a WebSocket upgrade; the reason when refused. */
export function refuseReason(req: IncomingMessage, port?: number): string | null {
  if (!hostAllowed(req.headers.host, port)) return 'host';
  if (!originAllowed(req.headers.origin)) return 'origin';
  return null;
}

/** One update as it travels: channel, per-channel sequence, message id, creation time, bytes. */
export interface Update {
  /** Channel. */
  c: number;
  /** Sequence number in its channel (assigned by the source, or by the server for protocols). */
  s: number;
  /** Message id: its index in the simulator's publish schedule. */
  i: number;
  /** Created at, `process.hrtime.bigint()` of the load generator, ns, as decimal text. */
  t0: string;
  /** Payload bytes. */
  n: number;
}

const PAD = 'x'.repeat(1 << 16);
/** The payload is `n` bytes of padding, so frames have the scenario's sizes. */
export function pad(n: number): string {
  return n <= PAD.length ? PAD.slice(0, n) : PAD.repeat(Math.ceil(n / PAD.length)).slice(0, n);
}

/** Frame a server sends to a client for one update. */
export function updateFrame(u: Update): string {
  return `{"t":"m","c":${u.c},"s":${u.s},"i":${u.i},"t0":"${u.t0}","p":"${pad(Math.min(u.n, MAX_PAYLOAD_BYTES - 256))}"}`;
}

/** Parses JSON without throwing; null when it is not an object. */
export function parseJson(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
