// Per-connection outboxes: updates waiting to be sent (a batch, a throttled connection, a backed-up socket), with conflation by key.

/** How a newer update for a key already waiting is folded in. */
export type Conflation = 'off' | 'merge' | 'drop';

/** Fields of an entry, at these offsets of its 8-number record. */
const MSG = 0;
const SLOT = 1;
const NEXT = 2;
const MASK = 3;
const BASE = 4;
const FULL = 5;
const SERVER_IN = 6;
const ENQUEUED = 7;
const STRIDE = 8;
/** Entries a pool takes from the shared array at a time. */
const CHUNK = 256;

/**
 * One list of waiting entries per (user, lane) — a lane is a priority class with its own window —
 * in a shared pool with a free list, so waiting costs no allocation. An entry is one 64-byte
 * record (one cache line, its link included) rather than a field in each of eight arrays: at a million users the
 * entries of a flush are scattered, and one miss per entry instead of eight is what keeps
 * batching affordable. Entries stay in arrival order; conflation replaces an entry in place.
 */
export class Outbox {
  /**
   * Integers are stored as doubles here; readers take them back with `| 0` so they index typed
   * arrays as small integers (a double-valued index takes V8's slow keyed-load path).
   */
  private d = new Float64Array(1024 * STRIDE);
  private capacity = 1024;
  private used = 0;
  /**
   * Entries come from per-pool chunks (a pool is a server): one server's tick reads its own
   * entries, so they should sit together in memory rather than between every other server's.
   */
  private readonly freeHead: Int32Array;
  private readonly chunkNext: Int32Array;
  private readonly chunkEnd: Int32Array;
  /** The pool of each list's user (lists are lane × users + user). */
  private readonly userPool: Int32Array | null;

  /** Per (lane, user): first and last entry, and how many entries and raw bytes wait. */
  readonly head: Int32Array;
  readonly tail: Int32Array;
  readonly count: Int32Array;
  readonly bytes: Float64Array;
  /** Entries waiting in all lists. */
  waiting = 0;

  constructor(
    readonly users: number,
    readonly lanes: number,
    /** Per user, the pool (server) its entries come from; absent: one pool. */
    userPool?: Int32Array,
  ) {
    let pools = 1;
    if (userPool)
      for (let u = 0; u < userPool.length; u++) pools = Math.max(pools, userPool[u] + 1);
    // Users every server refused (pool -1) never get entries; 0 keeps the index valid anyway.
    this.userPool = userPool ? userPool.map((x) => (x < 0 ? 0 : x)) : null;
    this.freeHead = new Int32Array(pools).fill(-1);
    this.chunkNext = new Int32Array(pools);
    this.chunkEnd = new Int32Array(pools);
    this.head = new Int32Array(users * lanes).fill(-1);
    this.tail = new Int32Array(users * lanes).fill(-1);
    this.count = new Int32Array(users * lanes);
    this.bytes = new Float64Array(users * lanes);
  }

  msg(e: number): number {
    return this.d[e * STRIDE + MSG] | 0;
  }
  slot(e: number): number {
    return this.d[e * STRIDE + SLOT] | 0;
  }
  /** Reuses the slot field (a per-key throttle's entry keeps the deliveries it owes there). */
  setSlot(e: number, slot: number): void {
    this.d[e * STRIDE + SLOT] = slot;
  }
  /** The entry after e in its list (or chain), -1 at the end. */
  next(e: number): number {
    return this.d[e * STRIDE + NEXT] | 0;
  }
  setNext(e: number, next: number): void {
    this.d[e * STRIDE + NEXT] = next;
  }
  mask(e: number): number {
    return this.d[e * STRIDE + MASK] | 0;
  }
  /** The sequence number the client must hold for the entry to go as a delta. */
  base(e: number): number {
    return this.d[e * STRIDE + BASE] | 0;
  }
  /** True when the entry must be sent as a full snapshot (the client has no base for a delta). */
  full(e: number): boolean {
    return (this.d[e * STRIDE + FULL] & 1) === 1;
  }
  setFull(e: number): void {
    this.d[e * STRIDE + FULL] = this.d[e * STRIDE + FULL] | 0 | 1;
  }
  /** When the newest update in the entry reached the server (for hop-1 latency). */
  serverInUs(e: number): number {
    return this.d[e * STRIDE + SERVER_IN];
  }
  /** When the entry started to wait (a batch must not hold it longer than its window). */
  enqueuedUs(e: number): number {
    return this.d[e * STRIDE + ENQUEUED];
  }

  private alloc(pool: number): number {
    const f = this.freeHead[pool];
    if (f >= 0) {
      this.freeHead[pool] = this.d[f * STRIDE + NEXT] | 0;
      return f;
    }
    if (this.chunkNext[pool] === this.chunkEnd[pool]) {
      if (this.used + CHUNK > this.capacity) this.grow();
      this.chunkNext[pool] = this.used;
      this.chunkEnd[pool] = this.used + CHUNK;
      this.used += CHUNK;
    }
    return this.chunkNext[pool]++;
  }

  /** Returns entry e to its pool. */
  release(e: number): void {
    const pool = (this.d[e * STRIDE + FULL] | 0) >> 1;
    this.d[e * STRIDE + NEXT] = this.freeHead[pool];
    this.freeHead[pool] = e;
  }

  private poolOfList(l: number): number {
    return this.userPool === null ? 0 : this.userPool[l < this.users ? l : l % this.users];
  }

  /** The waiting entry in list l whose message has key `key` (`keyOf[msg]`), or -1. */
  find(l: number, key: number, keyOf: Int32Array): number {
    const d = this.d;
    for (let e = this.head[l]; e >= 0; e = d[e * STRIDE + NEXT] | 0)
      if (keyOf[d[e * STRIDE + MSG] | 0] === key) return e;
    return -1;
  }

  /** A new entry in no list (a frame sent at once) for list l's user; `append` puts one in a list. */
  single(
    l: number,
    msg: number,
    slot: number,
    mask: number,
    full: boolean,
    base: number,
    serverInUs: number,
    nowUs: number,
  ): number {
    const pool = this.poolOfList(l);
    const e = this.alloc(pool);
    const d = this.d;
    const i = e * STRIDE;
    d[i + MSG] = msg;
    d[i + SLOT] = slot;
    d[i + NEXT] = -1;
    d[i + MASK] = mask;
    d[i + BASE] = base;
    d[i + FULL] = pool * 2 + (full ? 1 : 0);
    d[i + SERVER_IN] = serverInUs;
    d[i + ENQUEUED] = nowUs;
    return e;
  }

  /** Appends an entry to list l; returns it. */
  append(
    l: number,
    msg: number,
    slot: number,
    mask: number,
    full: boolean,
    base: number,
    serverInUs: number,
    nowUs: number,
    rawBytes: number,
  ): number {
    const e = this.single(l, msg, slot, mask, full, base, serverInUs, nowUs);
    if (this.tail[l] >= 0) this.d[this.tail[l] * STRIDE + NEXT] = e;
    else this.head[l] = e;
    this.tail[l] = e;
    this.count[l]++;
    this.bytes[l] += rawBytes;
    this.waiting++;
    return e;
  }

  /**
   * Folds a newer update into waiting entry e: merge keeps the union of changed fields (the
   * client still gets every field that changed), drop keeps only the newest update's, which the
   * server must then send as a full value (the client's base no longer matches a delta).
   */
  conflate(
    l: number,
    e: number,
    mode: Conflation,
    msg: number,
    mask: number,
    full: boolean,
    serverInUs: number,
    rawBytesDelta: number,
  ): void {
    const d = this.d;
    const i = e * STRIDE;
    d[i + MSG] = msg;
    d[i + MASK] = mode === 'merge' ? d[i + MASK] | mask : mask;
    if (full || mode === 'drop') d[i + FULL] = d[i + FULL] | 0 | 1;
    d[i + SERVER_IN] = serverInUs;
    this.bytes[l] += rawBytesDelta;
  }

  /** Detaches list l and returns its first entry (walk with `next`, release each). */
  take(l: number): number {
    const e = this.head[l];
    this.waiting -= this.count[l];
    this.head[l] = -1;
    this.tail[l] = -1;
    this.count[l] = 0;
    this.bytes[l] = 0;
    return e;
  }

  /** Detaches only the first entry of list l (a throttle lets one update go). */
  shift(l: number): number {
    const e = this.head[l];
    if (e < 0) return -1;
    const next = this.d[e * STRIDE + NEXT] | 0;
    this.head[l] = next;
    if (next < 0) this.tail[l] = -1;
    this.count[l]--;
    this.waiting--;
    this.d[e * STRIDE + NEXT] = -1;
    return e;
  }

  /** Typed-array bytes held (for the simulator's own memory figure). */
  get byteLength(): number {
    return (
      this.head.byteLength +
      this.tail.byteLength +
      this.count.byteLength +
      this.bytes.byteLength +
      this.d.byteLength
    );
  }

  private grow(): void {
    while (this.used + CHUNK > this.capacity) this.capacity *= 2;
    const d = new Float64Array(this.capacity * STRIDE);
    d.set(this.d);
    this.d = d;
  }
}

/** A growable list of ids (users with something waiting, per server and lane). */
export class IdList {
  ids = new Int32Array(64);
  n = 0;

  push(id: number): void {
    if (this.n === this.ids.length) {
      const b = new Int32Array(this.n * 2);
      b.set(this.ids);
      this.ids = b;
    }
    this.ids[this.n++] = id;
  }
}
