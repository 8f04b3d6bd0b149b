// One interface to the broker for servers and the publisher: the in-process broker over a loopback
// socket, or a real Redis (PUBLISH/SUBSCRIBE for pub/sub, Streams with consumer groups for the log).
import net from 'node:net';
import { Redis } from 'ioredis';
import type { Update } from './common.ts';
import { parseJson } from './common.ts';

export interface BrokerTarget {
  /** `tcp://127.0.0.1:port` (in-process) or `redis://host:port`. */
  url: string;
  /** Redis: key prefix of this run (`hoplab:<random>`), deleted at the end. */
  prefix: string;
}

export interface SubscribeOptions {
  channels: number[];
  /** Consumer group (log mode): each server is its own group, as in the cluster model. */
  group?: string;
  /** Resume after the group's committed offsets (a restarted consumer replays). */
  replay?: boolean;
  /** Also keep each channel's history in the broker (Redis: a stream per channel). */
  history?: boolean;
}

export interface BrokerClient {
  /** Connects; resolves once usable (or rejects if the broker cannot be reached). */
  connect(): Promise<void>;
  get up(): boolean;
  /** Resolves once the subscription is in place (what is published after it is received). */
  subscribe(opts: SubscribeOptions, onMessage: (m: Update) => void): Promise<void>;
  /** Publishes; false when the broker is unreachable right now (the message is refused). */
  publish(m: Update, opts: { log: boolean; history: boolean }): boolean;
  commit(c: number, s: number): void;
  fetch(c: number, after: number): Promise<Update[]>;
  poll(after: number): Promise<{ ms: Update[]; next: number }>;
  /** broker-down: cut the connection (and keep it cut) until `restore`. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export function brokerClient(target: BrokerTarget): BrokerClient {
  return target.url.startsWith('redis://')
    ? new RedisBrokerClient(target)
    : new TcpBrokerClient(target.url);
}

const RECONNECT_MS = 200;

class TcpBrokerClient implements BrokerClient {
  private socket: net.Socket | null = null;
  private connected = false;
  private closed = false;
  private cutOff = false;
  private sub: { opts: SubscribeOptions; onMessage: (m: Update) => void } | null = null;
  private rid = 0;
  private readonly waiting = new Map<number, (msg: Record<string, unknown>) => void>();
  private readonly port: number;

  constructor(url: string) {
    this.port = Number(new URL(url).port);
  }

  get up(): boolean {
    return this.connected;
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(this.port, '127.0.0.1');
      socket.setNoDelay(true);
      this.socket = socket;
      let buffered = '';
      let opened = false;
      socket.on('connect', () => {
        opened = true;
        this.connected = true;
        if (this.sub) this.sendSub(true);
        resolve();
      });
      socket.on('data', (chunk) => {
        buffered += chunk.toString('utf8');
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const msg = parseJson(buffered.slice(0, nl));
          buffered = buffered.slice(nl + 1);
          if (!msg) continue;
          if (msg.op === 'm') this.sub?.onMessage(msg.m as Update);
          else {
            const w = this.waiting.get(Number(msg.rid));
            this.waiting.delete(Number(msg.rid));
            w?.(msg);
          }
        }
      });
      socket.on('error', (e) => {
        if (!opened) reject(e);
      });
      socket.on('close', () => {
        this.connected = false;
        for (const w of this.waiting.values()) w({ ms: [], next: -1 });
        this.waiting.clear();
        if (!this.closed && !this.cutOff && opened) this.retry();
      });
    });
  }

  private retry(): void {
    setTimeout(() => {
      if (this.closed || this.cutOff || this.connected) return;
      this.connect().catch(() => this.retry());
    }, RECONNECT_MS).unref();
  }

  private write(msg: unknown): boolean {
    if (!this.connected || !this.socket) return false;
    this.socket.write(`${JSON.stringify(msg)}\n`);
    return true;
  }

  private sendSub(reconnect: boolean): void {
    const o = this.sub!.opts;
    // After a reconnect a consumer group resumes from its commits (log mode).
    this.write({
      op: 'sub',
      channels: o.channels,
      group: o.group,
      replay: o.replay || (reconnect && !!o.group),
    });
  }

  async subscribe(opts: SubscribeOptions, onMessage: (m: Update) => void): Promise<void> {
    this.sub = { opts, onMessage };
    if (this.connected) {
      this.sendSub(false);
      // The broker handles a connection's lines in order: a round trip means it has the `sub`.
      await this.fetch(-1, 0);
    }
  }

  publish(m: Update): boolean {
    return this.write({ op: 'pub', m });
  }

  commit(c: number, s: number): void {
    this.write({ op: 'commit', c, s });
  }

  private request(msg: Record<string, unknown>): Promise<Record<string, unknown>> {
    const rid = ++this.rid;
    return new Promise((resolve) => {
      if (!this.write({ ...msg, rid })) return resolve({ ms: [], next: -1 });
      this.waiting.set(rid, resolve);
    });
  }

  async fetch(c: number, after: number): Promise<Update[]> {
    return (await this.request({ op: 'fetch', c, after })).ms as Update[];
  }

  async poll(after: number): Promise<{ ms: Update[]; next: number }> {
    const r = await this.request({ op: 'poll', after });
    return { ms: r.ms as Update[], next: Number(r.next) };
  }

  cut(): void {
    this.cutOff = true;
    this.socket?.destroy();
  }

  restore(): void {
    this.cutOff = false;
    if (!this.connected) this.connect().catch(() => this.retry());
  }

  async close(): Promise<void> {
    this.closed = true;
    this.socket?.destroy();
  }
}

/** Stream entry id for sequence number s of a channel: explicit, so "after seq s" is a range. */
const entryId = (s: number) => `${s + 1}-1`;

class RedisBrokerClient implements BrokerClient {
  private readonly cmd: Redis;
  private sub: Redis | null = null;
  private reader: Redis | null = null;
  private readonly prefix: string;
  private subscription: { opts: SubscribeOptions; onMessage: (m: Update) => void } | null = null;
  private cutOff = false;
  private closed = false;
  /** Log mode: stream entry ids read but not yet acknowledged, per channel. */
  private readonly unacked = new Map<number, string[]>();

  constructor(private readonly target: BrokerTarget) {
    this.prefix = target.prefix;
    this.cmd = this.client();
  }

  private client(): Redis {
    const r = new Redis(this.target.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: () => (this.cutOff || this.closed ? null : RECONNECT_MS),
    });
    r.on('error', () => {});
    return r;
  }

  get up(): boolean {
    return !this.cutOff && this.cmd.status === 'ready';
  }

  private key(kind: 'ch' | 'log', c: number): string {
    return `${this.prefix}:${kind}:${c}`;
  }

  async connect(): Promise<void> {
    await this.cmd.connect();
  }

  async subscribe(opts: SubscribeOptions, onMessage: (m: Update) => void): Promise<void> {
    this.subscription = { opts, onMessage };
    await this.startSubscription(opts.replay ?? false);
  }

  private async startSubscription(replay: boolean): Promise<void> {
    const s = this.subscription;
    if (!s || this.cutOff || this.closed) return;
    if (s.opts.group) {
      // Log mode: XREADGROUP on one stream per channel; first the pending entries (a restarted
      // consumer replays what it had read but not acknowledged), then new ones.
      const reader = (this.reader = this.client());
      await reader.connect().catch(() => {});
      const keys = s.opts.channels.map((c) => this.key('log', c));
      for (const k of keys)
        await this.cmd.xgroup('CREATE', k, s.opts.group, '0', 'MKSTREAM').catch(() => {});
      void this.readLoop(reader, keys, s.opts.group, replay ? '0' : '>');
      return;
    }
    const sub = (this.sub = this.client());
    await sub.connect().catch(() => {});
    sub.on('message', (_channel: string, text: string) => {
      const m = parseJson(text);
      if (m) s.onMessage(m as unknown as Update);
    });
    await sub.subscribe(...s.opts.channels.map((c) => this.key('ch', c))).catch(() => {});
  }

  private async readLoop(
    reader: Redis,
    keys: string[],
    group: string,
    first: string,
  ): Promise<void> {
    // Pending entries (a restart's replay) are read from after the last one returned, per stream:
    // reading from 0 again would return the same unacknowledged entries over and over.
    let from = first;
    const pendingAfter = new Map(keys.map((k) => [k, '0']));
    while (!this.cutOff && !this.closed && this.reader === reader) {
      let res: [string, [string, string[]][]][] | null;
      try {
        res = (await reader.xreadgroup(
          'GROUP',
          group,
          group,
          'COUNT',
          1000,
          'BLOCK',
          from === '>' ? 100 : 0,
          'STREAMS',
          ...keys,
          ...keys.map((k) => (from === '>' ? '>' : (pendingAfter.get(k) ?? '0'))),
        )) as [string, [string, string[]][]][] | null;
      } catch {
        await new Promise((r) => setTimeout(r, RECONNECT_MS));
        continue;
      }
      let got = 0;
      for (const [key, entries] of res ?? []) {
        const c = Number(key.slice(key.lastIndexOf(':') + 1));
        for (const [id, fields] of entries) {
          got++;
          if (from !== '>') pendingAfter.set(key, id);
          const m = parseJson(fields[1]);
          if (m) this.subscription?.onMessage(m as unknown as Update);
          let list = this.unacked.get(c);
          if (!list) this.unacked.set(c, (list = []));
          list.push(id);
        }
      }
      if (from === '0' && got === 0) from = '>';
      else if (from === '0') continue;
    }
  }

  publish(m: Update, opts: { log: boolean; history: boolean }): boolean {
    if (!this.up) return false;
    const text = JSON.stringify(m);
    if (opts.log || opts.history) {
      this.cmd.xadd(this.key('log', m.c), entryId(m.s), 'm', text).catch(() => {});
    }
    if (!opts.log) this.cmd.publish(this.key('ch', m.c), text).catch(() => {});
    return true;
  }

  commit(c: number): void {
    const ids = this.unacked.get(c);
    const group = this.subscription?.opts.group;
    if (!ids || ids.length === 0 || !group || !this.up) return;
    this.unacked.set(c, []);
    this.cmd.xack(this.key('log', c), group, ...ids).catch(() => {});
  }

  async fetch(c: number, after: number): Promise<Update[]> {
    if (!this.up) return [];
    try {
      const entries = await this.cmd.xrange(this.key('log', c), `(${entryId(after)}`, '+');
      return entries.map(([, f]) => parseJson(f[1]) as unknown as Update).filter(Boolean);
    } catch {
      return [];
    }
  }

  /** Direct polling against Redis: the data source is every channel's stream; `after` is unused. */
  async poll(): Promise<{ ms: Update[]; next: number }> {
    return { ms: [], next: -1 };
  }

  cut(): void {
    this.cutOff = true;
    this.cmd.disconnect();
    this.sub?.disconnect();
    this.reader?.disconnect();
    this.sub = this.reader = null;
  }

  restore(): void {
    this.cutOff = false;
    this.cmd.connect().catch(() => {});
    void this.startSubscription(true);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cmd.disconnect();
    this.sub?.disconnect();
    this.reader?.disconnect();
  }
}

/** Deletes every key of a run's prefix (SCAN + UNLINK). */
export async function deleteRedisKeys(url: string, prefix: string): Promise<number> {
  const r = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  r.on('error', () => {});
  let deleted = 0;
  try {
    await r.connect();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await r.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
  return deleted;
}

/** Whether a Redis answers PING at url within timeoutMs. */
export async function redisReachable(url: string, timeoutMs = 500): Promise<boolean> {
  const r = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
  });
  r.on('error', () => {});
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}
