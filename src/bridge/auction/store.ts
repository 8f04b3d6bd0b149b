// The auction's state store for the bridge: one interface, a real Redis (ioredis) and an in-process store with the same three semantics.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { deleteRedisKeys } from '../broker-client.ts';

/** What an auction's key holds: the standing bid, who placed it, and which bid it was. */
export interface Standing {
  amount: number;
  bidder: number;
  bid: number;
}

/** The guide's bidding rule, as the simulator and the checker apply it. */
export interface BidRule {
  startPrice: number;
  minIncrement: number;
}

/** Whether `amount` may replace `current` (none yet: it must reach the start price). */
export function beats(amount: number, current: Standing | null, rule: BidRule): boolean {
  // Amounts are sums of increments on the start price: compare with the checker's float slack.
  const floor = current ? current.amount + rule.minIncrement : rule.startPrice;
  return amount >= floor - 1e-9;
}

/** `amount|bidder|bid`: the key's value and, identically, its entry in the auction's write log. */
export function encodeStanding(s: Standing): string {
  return `${s.amount}|${s.bidder}|${s.bid}`;
}

export function decodeStanding(text: string | null | undefined): Standing | null {
  if (!text) return null;
  const [amount, bidder, bid] = text.split('|');
  return { amount: Number(amount), bidder: Number(bidder), bid: Number(bid) };
}

/**
 * One concurrent bidder's handle on the store. With Redis it is a connection of its own, because
 * WATCH belongs to a connection: two bids sharing one would watch for each other. Every write
 * also appends its value to the auction's log in the same atomic step, so the log is the store's
 * own order of writes — what the checker replays — without adding any validation to naive.
 */
export interface StoreSession {
  /** naive: GET. */
  get(auction: number): Promise<Standing | null>;
  /** naive: a blind SET (and the log append, in one MULTI without WATCH). */
  write(auction: number, value: Standing): Promise<void>;
  /** optimistic: WATCH the key, then GET it. */
  watchGet(auction: number): Promise<Standing | null>;
  /** optimistic: MULTI / SET / (log) / EXEC; false when the key changed since WATCH. */
  execWrite(auction: number, value: Standing): Promise<boolean>;
  /** optimistic: drop the WATCH (the bid was too low and is not written). */
  unwatch(): Promise<void>;
  /** atomic: one script compares against the current bid and sets; what it compared with. */
  compareAndSet(
    auction: number,
    value: Standing,
  ): Promise<{ accepted: boolean; current: Standing | null }>;
}

export interface AuctionStore {
  readonly kind: 'redis' | 'in-process';
  /** The Redis server's version (`INFO server`), when it is one. */
  readonly version: string | null;
  /** Where the run's keys live (`hoplab:auction:<random>`); the store touches no other key. */
  readonly prefix: string;
  /** A session for one bid; waits while all `sessions` are busy. */
  acquire(): Promise<StoreSession>;
  release(s: StoreSession): void;
  /** Bids that had to wait for a free session. */
  readonly waits: number;
  /** The auction's writes in the order the store applied them. */
  log(auction: number): Promise<Standing[]>;
  /** Deletes the run's keys and closes every connection; resolves to keys still there (0). */
  close(): Promise<number>;
}

/** A fixed set of sessions handed out first come, first served. */
class Pool<T> {
  private readonly free: T[];
  private readonly waiting: ((s: T) => void)[] = [];
  waits = 0;

  constructor(items: T[]) {
    this.free = items.slice();
  }

  acquire(): Promise<T> {
    const s = this.free.pop();
    if (s !== undefined) return Promise.resolve(s);
    this.waits++;
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(s: T): void {
    const next = this.waiting.shift();
    if (next) next(s);
    else this.free.push(s);
  }
}

/** A fresh key prefix per run, so two runs (or anything else in the Redis) never share a key. */
export function runPrefix(): string {
  return `hoplab:auction:${process.pid}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

// ---- In-process.

export interface InProcessOptions {
  rule: BidRule;
  sessions: number;
  /**
   * One-way delay of each request and reply, µs. 0: one `setImmediate` turn each way — real
   * asynchrony (every other bid's timers and callbacks run in between), no added time.
   */
  oneWayUs?: number;
}

/**
 * A single-threaded store in this process: each command is applied in one synchronous step after
 * its request's hop and answered after another, so commands are serial in arrival order (as in
 * Redis) and bids interleave between them exactly where they would between round trips.
 */
export class InProcessAuctionStore implements AuctionStore {
  readonly kind = 'in-process' as const;
  readonly version = null;
  readonly prefix = runPrefix();
  private readonly values = new Map<number, Standing>();
  /** Bumped by every write to the key: what a WATCH compares at EXEC. */
  private readonly versions = new Map<number, number>();
  private readonly logs = new Map<number, Standing[]>();
  private readonly pool: Pool<StoreSession>;
  private readonly rule: BidRule;
  private readonly oneWayUs: number;

  constructor(opts: InProcessOptions) {
    this.rule = opts.rule;
    this.oneWayUs = opts.oneWayUs ?? 0;
    this.pool = new Pool(Array.from({ length: opts.sessions }, () => this.session()));
  }

  get waits(): number {
    return this.pool.waits;
  }

  acquire(): Promise<StoreSession> {
    return this.pool.acquire();
  }

  release(s: StoreSession): void {
    this.pool.release(s);
  }

  private hop(): Promise<void> {
    const us = this.oneWayUs;
    return new Promise((resolve) =>
      us > 0 ? setTimeout(resolve, us / 1000) : setImmediate(resolve),
    );
  }

  /** A command: the request travels, the store applies it at once, the reply travels. */
  private async command<T>(apply: () => T): Promise<T> {
    await this.hop();
    const out = apply();
    await this.hop();
    return out;
  }

  private set(auction: number, value: Standing): void {
    this.values.set(auction, value);
    this.versions.set(auction, (this.versions.get(auction) ?? 0) + 1);
    let log = this.logs.get(auction);
    if (!log) this.logs.set(auction, (log = []));
    log.push(value);
  }

  private session(): StoreSession {
    let watched: { auction: number; version: number } | null = null;
    const current = (a: number) => this.values.get(a) ?? null;
    return {
      get: (a) => this.command(() => current(a)),
      write: (a, v) => this.command(() => this.set(a, v)),
      watchGet: (a) =>
        this.command(() => {
          watched = { auction: a, version: this.versions.get(a) ?? 0 };
          return current(a);
        }),
      execWrite: (a, v) =>
        this.command(() => {
          const w = watched;
          watched = null;
          if (!w || w.auction !== a || (this.versions.get(a) ?? 0) !== w.version) return false;
          this.set(a, v);
          return true;
        }),
      unwatch: () =>
        this.command(() => {
          watched = null;
        }),
      compareAndSet: (a, v) =>
        this.command(() => {
          const cur = current(a);
          if (!beats(v.amount, cur, this.rule)) return { accepted: false, current: cur };
          this.set(a, v);
          return { accepted: true, current: cur };
        }),
    };
  }

  async log(auction: number): Promise<Standing[]> {
    return (this.logs.get(auction) ?? []).slice();
  }

  async close(): Promise<number> {
    this.values.clear();
    this.logs.clear();
    this.versions.clear();
    return 0;
  }
}

// ---- Redis.

/**
 * The atomic control: read the standing bid, compare, and set — one command, so nothing can come
 * between. KEYS[1] the auction, KEYS[2] its log; ARGV amount, start price, increment, new value.
 * Returns {1 | 0, the value compared against ('' for none)}.
 */
export const COMPARE_AND_SET_LUA = `
local cur = redis.call('GET', KEYS[1])
local amount = tonumber(ARGV[1])
local floor = tonumber(ARGV[2])
if cur then floor = tonumber(string.match(cur, '^[^|]+')) + tonumber(ARGV[3]) end
if amount < floor - 1e-9 then return {0, cur or ''} end
redis.call('SET', KEYS[1], ARGV[4])
redis.call('RPUSH', KEYS[2], ARGV[4])
return {1, cur or ''}
`;

export interface RedisStoreOptions {
  url: string;
  rule: BidRule;
  sessions: number;
}

/** Connections that fail at once instead of queueing or reconnecting: a run is short. */
function connection(url: string): Redis {
  const r = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
    // A Redis that stops answering fails the run instead of hanging it.
    commandTimeout: 5_000,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  r.on('error', () => {});
  return r;
}

/**
 * The real store: every session its own connection (WATCH is per connection), keys
 * `<prefix>:a:<auction>` (the standing bid) and `<prefix>:log:<auction>` (its writes, RPUSHed in
 * the same MULTI or script as the SET), the compare-and-set script loaded once (SCRIPT LOAD) and
 * run by its SHA (EVALSHA; EVAL if the server lost its script cache). `close` deletes every key
 * under the prefix and checks with SCAN that none is left.
 */
export class RedisAuctionStore implements AuctionStore {
  readonly kind = 'redis' as const;
  readonly prefix = runPrefix();
  version: string | null = null;
  private readonly admin: Redis;
  private readonly connections: Redis[] = [];
  private pool: Pool<StoreSession> = new Pool<StoreSession>([]);
  private sha = '';
  private closed = false;

  private constructor(
    private readonly opts: RedisStoreOptions,
    admin: Redis,
  ) {
    this.admin = admin;
  }

  /** Connects the admin and every session connection and loads the script; throws if Redis does not answer. */
  static async open(opts: RedisStoreOptions): Promise<RedisAuctionStore> {
    const store = new RedisAuctionStore(opts, connection(opts.url));
    try {
      await store.admin.connect();
      const info = await store.admin.info('server');
      store.version = /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? 'unknown';
      store.sha = String(await store.admin.script('LOAD', COMPARE_AND_SET_LUA));
      for (let i = 0; i < opts.sessions; i++) store.connections.push(connection(opts.url));
      await Promise.all(store.connections.map((c) => c.connect()));
      store.pool = new Pool(store.connections.map((c) => store.session(c)));
      return store;
    } catch (e) {
      await store.close().catch(() => 0);
      throw e;
    }
  }

  get waits(): number {
    return this.pool.waits;
  }

  acquire(): Promise<StoreSession> {
    return this.pool.acquire();
  }

  release(s: StoreSession): void {
    this.pool.release(s);
  }

  private key(a: number): string {
    return `${this.prefix}:a:${a}`;
  }

  private logKey(a: number): string {
    return `${this.prefix}:log:${a}`;
  }

  private session(r: Redis): StoreSession {
    const rule = this.opts.rule;
    return {
      get: async (a) => decodeStanding(await r.get(this.key(a))),
      write: async (a, v) => {
        const text = encodeStanding(v);
        await r.multi().set(this.key(a), text).rpush(this.logKey(a), text).exec();
      },
      watchGet: async (a) => {
        // WATCH and GET go out together: one round trip, as the simulator's read step.
        const [, value] = await Promise.all([r.watch(this.key(a)), r.get(this.key(a))]);
        return decodeStanding(value);
      },
      execWrite: async (a, v) => {
        const text = encodeStanding(v);
        const out = await r.multi().set(this.key(a), text).rpush(this.logKey(a), text).exec();
        return out !== null;
      },
      unwatch: async () => {
        await r.unwatch();
      },
      compareAndSet: async (a, v) => {
        const args = [
          this.key(a),
          this.logKey(a),
          v.amount,
          rule.startPrice,
          rule.minIncrement,
          encodeStanding(v),
        ];
        let out: unknown;
        try {
          out = await r.evalsha(this.sha, 2, ...args);
        } catch (e) {
          if (!String((e as Error).message).startsWith('NOSCRIPT')) throw e;
          out = await r.eval(COMPARE_AND_SET_LUA, 2, ...args);
        }
        const [ok, cur] = out as [number, string];
        return { accepted: ok === 1, current: decodeStanding(cur) };
      },
    };
  }

  async log(auction: number): Promise<Standing[]> {
    const entries = await this.admin.lrange(this.logKey(auction), 0, -1);
    return entries.map((e) => decodeStanding(e)!);
  }

  async close(): Promise<number> {
    if (this.closed) return 0;
    this.closed = true;
    for (const c of this.connections) c.disconnect();
    let left = 0;
    try {
      if (this.admin.status === 'ready') {
        await deleteRedisKeys(this.opts.url, this.prefix);
        left = await countKeys(this.admin, this.prefix);
      }
    } finally {
      this.admin.disconnect();
    }
    return left;
  }
}

/** Keys under `prefix:` (SCAN, never KEYS: it would block a shared Redis). */
export async function countKeys(r: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    n += keys.length;
  } while (cursor !== '0');
  return n;
}
