// One real server of a bridge run, as its own Node process (forked by the bridge, configured over
// IPC): WebSocket on `ws`, and polling, long polling and SSE on Node's http. It takes updates from
// the broker (or, in protocol scenarios, from the source and from clients), keeps each channel's
// recent history, and fans out to its subscribers through the emulated link delays.
import http from 'node:http';
import { WebSocketServer, WebSocket } from 'ws';
import { brokerClient, type BrokerClient, type BrokerTarget } from './broker-client.ts';
import {
  LOOPBACK,
  MAX_PAYLOAD_BYTES,
  nowUs,
  parseJson,
  refuseReason,
  SLOW_CONSUMER_BYTES,
  updateFrame,
  type Update,
} from './common.ts';
import { DelayLine, linkDelay, type DelaySpec } from './netem.ts';
import type { BridgeProtocol, Distribution } from './plan.ts';

export interface ServerConfig {
  index: number;
  /** 0: let the OS pick (first start); the same port again on a restart. */
  port: number;
  seed: number;
  protocol: BridgeProtocol;
  distribution: Distribution;
  broker: BrokerTarget | null;
  channels: number;
  history: 'none' | 'server' | 'broker';
  /** Assign sequence numbers here (protocol scenarios: the server is the source). */
  assignSeq: boolean;
  clientDelay: DelaySpec;
  brokerDelay: DelaySpec;
  holdS: number;
  missed: 'buffer' | 'drop';
  /** History kept per channel in memory (entries). */
  historyLimit: number;
}

/** Messages to the parent. */
export type ServerReport =
  | { type: 'listening'; index: number; port: number }
  | {
      type: 'stats';
      index: number;
      cpuUs: number;
      rssBytes: number;
      connections: number;
      slowDisconnects: number;
      refused: number;
      frames: number;
      bytes: number;
    };

interface Conn {
  u: number;
  channels: number[];
  ws?: WebSocket;
  res?: http.ServerResponse;
  lastDue: number;
  closed: boolean;
  /** While a resume replay is being fetched, live updates wait here. */
  pending: Update[] | null;
  /** Highest seq sent per channel (drop what a replay already sent). */
  sent: Map<number, number>;
}

let cfg: ServerConfig;
const line = new DelayLine(nowUs);
const subscribers = new Map<number, Set<Conn>>();
const lastSeq = new Map<number, number>();
const history = new Map<number, Update[]>();
const delays = new Map<number, () => number>();
const waiters = new Map<number, Set<() => void>>();
let brokerDelay: () => number = () => 0;
let brokerDue = 0;
let broker: BrokerClient | null = null;
let connections = 0;
let slowDisconnects = 0;
let refused = 0;
let frames = 0;
let bytes = 0;

function send(msg: ServerReport): void {
  process.send?.(msg);
}

function delayOf(u: number): () => number {
  let d = delays.get(u);
  if (!d) delays.set(u, (d = linkDelay(cfg.clientDelay, cfg.seed, 'down', u)));
  return d;
}

/** Sends on a client's link after its emulated delay, in order (one TCP stream per client). */
function later(conn: Conn, fn: () => void): void {
  const now = nowUs();
  let due = now + delayOf(conn.u)();
  if (due < conn.lastDue) due = conn.lastDue;
  conn.lastDue = due;
  line.at(due, fn);
}

function record(m: Update): void {
  const prev = lastSeq.get(m.c) ?? -1;
  if (m.s > prev) lastSeq.set(m.c, m.s);
  let h = history.get(m.c);
  if (!h) history.set(m.c, (h = []));
  if (h.length === 0 || h[h.length - 1].s < m.s) h.push(m);
  if (h.length > cfg.historyLimit) h.splice(0, h.length - cfg.historyLimit);
}

function writeUpdate(conn: Conn, m: Update): void {
  const sent = conn.sent.get(m.c) ?? -1;
  if (m.s <= sent) return;
  conn.sent.set(m.c, m.s);
  later(conn, () => transmit(conn, updateFrame(m), m.s));
}

/** Writes a frame now; a connection whose backlog passes the bound is cut (slow consumer). */
function transmit(conn: Conn, frame: string, id?: number): void {
  if (conn.closed) return;
  frames++;
  bytes += frame.length;
  if (conn.ws) {
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    if (conn.ws.bufferedAmount > SLOW_CONSUMER_BYTES) {
      slowDisconnects++;
      conn.ws.terminate();
      return;
    }
    conn.ws.send(frame);
  } else if (conn.res) {
    const ok = conn.res.write(id === undefined ? frame : `id: ${id}\ndata: ${frame}\n\n`);
    if (!ok && conn.res.writableLength > SLOW_CONSUMER_BYTES) {
      slowDisconnects++;
      conn.res.destroy();
    }
  }
}

/** An update reached this server: keep it, wake held polls, fan out to live subscribers. */
function deliver(m: Update): void {
  record(m);
  const w = waiters.get(m.c);
  if (w) {
    waiters.delete(m.c);
    for (const wake of w) wake();
  }
  const subs = subscribers.get(m.c);
  if (!subs) return;
  for (const conn of subs) {
    if (conn.pending) conn.pending.push(m);
    else writeUpdate(conn, m);
  }
}

/** From the broker: through the emulated broker → server link first (FIFO). */
function fromBroker(m: Update): void {
  const now = nowUs();
  let due = now + brokerDelay();
  if (due < brokerDue) due = brokerDue;
  brokerDue = due;
  line.at(due, () => deliver(m));
}

function publishHere(c: number, i: number, t0: string, n: number): void {
  const s = (lastSeq.get(c) ?? -1) + 1;
  deliver({ c, s, i, t0, n });
}

function join(conn: Conn): void {
  for (const c of conn.channels) {
    let set = subscribers.get(c);
    if (!set) subscribers.set(c, (set = new Set()));
    set.add(conn);
  }
  connections++;
}

function leave(conn: Conn): void {
  if (conn.closed) return;
  conn.closed = true;
  connections--;
  for (const c of conn.channels) subscribers.get(c)?.delete(conn);
}

/** This server's own copy of channel c after seq `after`, if it still holds all of it. */
function fromMemory(c: number, after: number): Update[] | null {
  const h = history.get(c) ?? [];
  const latest = lastSeq.get(c) ?? -1;
  if (latest <= after) return [];
  // Complete when it starts at or before after + 1 (a restarted server has lost the older part).
  if (h.length === 0 || h[0].s > after + 1) return null;
  return h.filter((m) => m.s > after);
}

/**
 * Replays each channel after `after` to a connection. Resume (a reconnect): from the broker or
 * from memory, as the scenario's history says. A first subscription "from seq N" (the seq the
 * simulator first owed this client): from this server's memory — it has received everything
 * since it started, so what the client's real connection finished too late for is buffered —
 * or from the broker's history when memory does not reach back.
 */
async function replay(conn: Conn, resume: Map<number, number>, first = false): Promise<void> {
  for (const [c, after] of resume) {
    let ms: Update[] = [];
    if (first) ms = fromMemory(c, after) ?? (broker ? await broker.fetch(c, after) : []);
    else if (cfg.history === 'broker' && broker) ms = await broker.fetch(c, after);
    else if (cfg.history === 'server' || cfg.assignSeq)
      ms = (history.get(c) ?? []).filter((m) => m.s > after);
    for (const m of ms) writeUpdate(conn, m);
  }
  const waiting = conn.pending ?? [];
  conn.pending = null;
  for (const m of waiting) writeUpdate(conn, m);
}

function parseChannels(text: string | null): number[] {
  if (!text) return [];
  return text
    .split(',')
    .map(Number)
    .filter((c) => Number.isInteger(c) && c >= 0 && c < cfg.channels)
    .slice(0, 64);
}

function parseResume(text: string | null): Map<number, number> {
  const out = new Map<number, number>();
  for (const pair of (text ?? '').split(',').slice(0, 64)) {
    const [c, s] = pair.split(':').map(Number);
    if (Number.isInteger(c) && Number.isInteger(s) && c >= 0 && c < cfg.channels) out.set(c, s);
  }
  return out;
}

/**
 * Where a new connection starts, per channel: `resume=c:s` (a reconnect: after its last
 * contiguous seq) or `from=c:n` (a first subscription: from seq n on, i.e. after n - 1).
 */
function startOf(url: URL, channels: number[]): { after: Map<number, number>; first: boolean } {
  const resume = parseResume(url.searchParams.get('resume'));
  if (resume.size > 0) return { after: resume, first: false };
  const from = parseResume(url.searchParams.get('from'));
  const after = new Map<number, number>();
  for (const [c, n] of from) if (channels.includes(c)) after.set(c, n - 1);
  return { after, first: true };
}

function cursorOf(channels: number[]): Record<number, number> {
  const cur: Record<number, number> = {};
  for (const c of channels) cur[c] = lastSeq.get(c) ?? -1;
  return cur;
}

// ---- WebSocket.

function onWebSocket(ws: WebSocket, url: URL): void {
  ws.on('error', () => {});
  if (url.pathname === '/source') {
    // Protocol scenarios: the source publishes here (the server is where updates are created).
    ws.on('message', (data) => {
      const m = parseJson(data.toString());
      if (m) publishHere(Number(m.c), Number(m.i), String(m.t0), Number(m.n));
    });
    return;
  }
  const u = Number(url.searchParams.get('u'));
  const channels = parseChannels(url.searchParams.get('ch'));
  const { after, first } = startOf(url, channels);
  const conn: Conn = {
    u,
    channels,
    ws,
    lastDue: 0,
    closed: false,
    pending: after.size > 0 ? [] : null,
    sent: new Map(after),
  };
  join(conn);
  const welcome = JSON.stringify({ t: 'w', srv: cfg.index, cur: cursorOf(channels) });
  later(conn, () => transmit(conn, welcome));
  if (after.size > 0) void replay(conn, after, first);
  ws.on('message', (data) => {
    // Client-originated updates (chat): published here, fanned out to the channel.
    const m = parseJson(data.toString());
    if (m && m.t === 'pub' && cfg.assignSeq)
      publishHere(Number(m.c), Number(m.i), String(m.t0), Number(m.n));
  });
  ws.on('close', () => leave(conn));
}

// ---- HTTP: polling, long polling, SSE, client POSTs, health.

function respondPoll(conn: Conn, res: http.ServerResponse, c: number, after: number): void {
  const ms = after < -1 ? [] : (history.get(c) ?? []).filter((m) => m.s > after);
  const body = JSON.stringify({
    cur: lastSeq.get(c) ?? -1,
    ms: ms.map((m) => JSON.parse(updateFrame(m))),
  });
  later(conn, () => {
    frames++;
    bytes += body.length;
    if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
}

function onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
  const why = refuseReason(req);
  if (why) {
    refused++;
    res.writeHead(403).end(`refused: ${why}`);
    return;
  }
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const u = Number(url.searchParams.get('u'));
  const conn: Conn = { u, channels: [], lastDue: 0, closed: true, pending: null, sent: new Map() };
  switch (url.pathname) {
    case '/health':
      res.writeHead(200).end('ok');
      return;
    case '/poll':
    case '/lp': {
      const c = Number(url.searchParams.get('c'));
      let after = Number(url.searchParams.get('after') ?? '-2');
      if (!Number.isInteger(c) || c < 0 || c >= cfg.channels) {
        res.writeHead(400).end('c');
        return;
      }
      const latest = lastSeq.get(c) ?? -1;
      // A client's first request asks from the seq it is first owed: never a gap to drop.
      const first = url.searchParams.get('first') === '1';
      if (
        url.pathname === '/lp' &&
        !first &&
        after >= -1 &&
        latest > after &&
        cfg.missed === 'drop'
      )
        // No buffer: what arrived while no request was held is gone; the request is held for
        // what comes next (as the simulator does), and its answer carries the new cursor.
        after = latest;
      else if (url.pathname === '/poll' || after < -1 || latest > after) {
        respondPoll(conn, res, c, after);
        return;
      }
      // Long poll: hold until an update on c or the hold time.
      let set = waiters.get(c);
      if (!set) waiters.set(c, (set = new Set()));
      const wake = () => {
        // An update below the client's first owed seq is not news to it: keep holding.
        if ((lastSeq.get(c) ?? -1) <= after) {
          let again = waiters.get(c);
          if (!again) waiters.set(c, (again = new Set()));
          set = again;
          again.add(wake);
          return;
        }
        finish();
      };
      const finish = () => {
        clearTimeout(timer);
        set!.delete(wake);
        respondPoll(conn, res, c, after);
      };
      const timer = setTimeout(finish, cfg.holdS * 1000);
      set.add(wake);
      req.on('close', () => {
        if (!res.writableEnded) {
          clearTimeout(timer);
          set!.delete(wake);
        }
      });
      return;
    }
    case '/sse': {
      const channels = parseChannels(url.searchParams.get('ch'));
      const last = req.headers['last-event-id'];
      let { after, first } = startOf(url, channels);
      if (typeof last === 'string' && /^\d+$/.test(last) && channels.length === 1) {
        after = new Map([[channels[0], Number(last)]]);
        first = false;
      }
      const sse: Conn = {
        u,
        channels,
        res,
        lastDue: 0,
        closed: false,
        pending: after.size > 0 ? [] : null,
        sent: new Map(after),
      };
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      res.write('retry: 1000\n\n');
      join(sse);
      const welcome = `event: w\ndata: ${JSON.stringify({ srv: cfg.index, cur: cursorOf(channels) })}\n\n`;
      later(sse, () => transmit(sse, welcome));
      if (after.size > 0) void replay(sse, after, first);
      res.on('close', () => leave(sse));
      return;
    }
    case '/pub': {
      if (req.method !== 'POST') {
        res.writeHead(405).end();
        return;
      }
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
        if (body.length > MAX_PAYLOAD_BYTES) req.destroy();
      });
      req.on('end', () => {
        const m = parseJson(body);
        if (m && cfg.assignSeq) publishHere(Number(m.c), Number(m.i), String(m.t0), Number(m.n));
        later(conn, () => {
          if (!res.destroyed) res.writeHead(204).end();
        });
      });
      return;
    }
    default:
      res.writeHead(404).end();
  }
}

// ---- Hop 2: the broker.

async function startBroker(): Promise<void> {
  if (!cfg.broker) return;
  broker = brokerClient(cfg.broker);
  for (;;) {
    try {
      await broker.connect();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const channels = Array.from({ length: cfg.channels }, (_, c) => c);
  const d = cfg.distribution;
  if (d.kind === 'pubsub') await broker.subscribe({ channels }, fromBroker);
  else if (d.kind === 'log') {
    const group = `server-${cfg.index}`;
    await broker.subscribe({ channels, group, replay: true }, fromBroker);
    const seen = new Map<number, number>();
    const commit = setInterval(() => {
      for (const [c, s] of lastSeq) {
        if (seen.get(c) === s) continue;
        seen.set(c, s);
        broker!.commit(c, s);
      }
    }, d.commitIntervalMs);
    commit.unref();
  } else if (d.kind === 'direct') {
    // Each server polls the data source (the broker's per-channel history) every interval.
    const poll = async () => {
      for (let c = 0; c < cfg.channels; c++) {
        const ms = await broker!.fetch(c, lastSeq.get(c) ?? -1);
        for (const m of ms) fromBroker(m);
      }
    };
    let busy = false;
    setInterval(() => {
      if (busy) return;
      busy = true;
      void poll().finally(() => (busy = false));
    }, d.pollIntervalMs).unref();
  }
}

function startStats(): void {
  let last = process.cpuUsage();
  const tick = () => {
    const now = process.cpuUsage();
    const cpuUs = now.user - last.user + (now.system - last.system);
    last = now;
    send({
      type: 'stats',
      index: cfg.index,
      cpuUs,
      rssBytes: process.memoryUsage().rss,
      connections,
      slowDisconnects,
      refused,
      frames,
      bytes,
    });
  };
  setInterval(tick, 250).unref();
}

async function main(config: ServerConfig): Promise<void> {
  cfg = config;
  brokerDelay = linkDelay(cfg.brokerDelay, cfg.seed, 'broker', cfg.index);
  const server = http.createServer(onRequest);
  server.keepAliveTimeout = 65_000;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_PAYLOAD_BYTES,
    perMessageDeflate: false,
  });
  wss.on('headers', (headers) => headers.push(`Set-Cookie: hoplab-server=${cfg.index}; Path=/`));
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => {});
    const why = refuseReason(req);
    if (why) {
      refused++;
      socket.end(`HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\nrefused: ${why}`);
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/ws' && url.pathname !== '/source') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onWebSocket(ws, url));
  });
  server.maxConnections = 20_000;
  // Subscribed before accepting clients: a client welcomed here gets everything published after.
  await startBroker();
  await new Promise<void>((resolve) => server.listen(cfg.port, LOOPBACK, resolve));
  const port = (server.address() as { port: number }).port;
  startStats();
  send({ type: 'listening', index: cfg.index, port });
}

process.on('message', (msg: { type: string; config?: ServerConfig }) => {
  if (msg.type === 'init' && msg.config) void main(msg.config);
  else if (msg.type === 'broker-down') broker?.cut();
  else if (msg.type === 'broker-up') broker?.restore();
});
// The parent is gone: so are we (no orphans).
process.on('disconnect', () => process.exit(0));
