// The playground's state: owns the msw worker, the replayed feed, the four protocol clients and their logs.
import { setupWorker, type SetupWorker } from 'msw/browser';
import { startLongPolling } from './clients/long-polling.ts';
import { startPolling } from './clients/polling.ts';
import { startSse } from './clients/sse.ts';
import type { Report, Update } from './clients/types.ts';
import { startWebSocket } from './clients/websocket.ts';
import {
  chatLine,
  createFeedSimulation,
  DEFAULT_FEED,
  FEED_CHANNEL,
  FeedClock,
  FeedSchedule,
  nextPrice,
  type FeedItem,
  type FeedOptions,
  type UpdateSource,
} from './feed.ts';
import {
  CLIENT_PATHS,
  createHandlers,
  endpointsFor,
  type Connections,
  type Endpoints,
} from './handlers.ts';
import {
  emptyCounters,
  PROTOCOLS,
  prependCapped,
  receive,
  seqLabel,
  type Counters,
  type EntryKind,
  type LogEntry,
  type Protocol,
} from './log.ts';
import { FeedServer } from './server.ts';
import { browserCapabilities, supportProblem, type Capabilities, type Problem } from './support.ts';

export type Phase = 'checking' | 'starting' | 'ready' | 'unsupported' | 'failed';
export type ConnectionState = 'idle' | 'active' | 'open' | 'retrying';

const WORKER_URL = './mockServiceWorker.js';
/** Log and counter changes reach the page at most this often, so a busy feed never floods it. */
const FLUSH_MS = 100;
/** The feed timer wakes at least this often, to pull the next updates from the simulator. */
const PUMP_MAX_MS = 250;
/**
 * A longer gap between feed timers means the page was asleep or throttled in the background; the
 * feed treats it as a pause, rather than publishing everything it missed in one burst.
 */
const STALL_MS = 5_000;
/** Page-side delay before a dropped WebSocket reconnects. */
export const WS_RECONNECT_MS = 2_000;
export const SSE_RETRY_MS = 2_000;
export type SocketClient = ReturnType<typeof startWebSocket>;
export const POLL_INTERVALS_MS = [250, 500, 1_000, 2_000, 5_000] as const;
export const HOLD_OPTIONS_S = [5, 10, 30, 60] as const;

/** Opens and closes are chained, so a quick close-then-open never races the service worker. */
let lifecycle: Promise<unknown> = Promise.resolve();

type Record4<T> = Record<Protocol, T>;
function perProtocol<T>(make: () => T): Record4<T> {
  return Object.fromEntries(PROTOCOLS.map((p) => [p, make()])) as Record4<T>;
}

export class PlaygroundState {
  phase = $state<Phase>('checking');
  problem = $state.raw<Problem | null>(null);

  seed = $state(DEFAULT_FEED.seed);
  rate = $state(DEFAULT_FEED.rate);
  speed = $state(10);
  pollIntervalMs = $state(1_000);
  holdS = $state(30);

  running = $state.raw<Record4<boolean>>(perProtocol(() => false));
  connection = $state.raw<Record4<ConnectionState>>(perProtocol(() => 'idle' as ConnectionState));
  logs = $state.raw<Record4<LogEntry[]>>(perProtocol(() => []));
  counters = $state.raw<Record4<Counters>>(perProtocol(emptyCounters));
  /** Newest sequence number the server has published, and the simulated time reached. */
  published = $state(0);
  simUs = $state(0);
  feedRunning = $state(false);
  endpoints = $state.raw<Endpoints | null>(null);

  private readonly server = new FeedServer();
  private readonly clock = new FeedClock(10);
  private worker: SetupWorker | null = null;
  private connections: Connections | null = null;
  private schedule: FeedSchedule | null = null;
  private spare: UpdateSource | null = null;
  private price = 100;
  private feedTimer: ReturnType<typeof setTimeout> | undefined;
  private lastPumpMs = 0;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private stops: Partial<Record4<() => void>> = {};
  private socket: SocketClient | null = null;
  /** Bumped on every start of a protocol, so late reports from a stopped client are ignored. */
  private tokens: Record4<number> = perProtocol(() => 0);
  private live: Record4<Counters> = perProtocol(emptyCounters);
  private liveConn: Record4<ConnectionState> = perProtocol(() => 'idle' as ConnectionState);
  private buffered: Record4<LogEntry[]> = perProtocol(() => []);
  private entryKey = 0;
  private generation = 0;
  private closed = false;

  constructor(private readonly capabilities: () => Capabilities = browserCapabilities) {}

  /** Starts msw and builds the feed. Safe to call once; `close` undoes everything. */
  open(): Promise<void> {
    const generation = ++this.generation;
    const run = lifecycle.then(() => this.doOpen(generation));
    lifecycle = run.catch(() => undefined);
    return run;
  }

  private async doOpen(generation: number): Promise<void> {
    if (this.closed || generation !== this.generation) return;
    this.problem = supportProblem(this.capabilities());
    if (this.problem) {
      this.phase = 'unsupported';
      return;
    }
    this.phase = 'starting';
    try {
      const endpoints = endpointsFor(location.href);
      const { handlers, connections } = createHandlers(this.server, endpoints, {
        sseRetryMs: SSE_RETRY_MS,
        onClientMessage: (text) => this.publishClientMessage(text),
        onStreamResume: ({ since, replayed, via }) =>
          this.serverNote(
            'sse',
            `server resumes after #${since}: replays ${replayed} missed update${replayed === 1 ? '' : 's'} (${via === 'Last-Event-ID' ? 'from Last-Event-ID' : 'from its cursor for this stream: this browser keeps Last-Event-ID from service workers'})`,
          ),
      });
      const worker = setupWorker(...handlers);
      await worker.start({
        serviceWorker: { url: WORKER_URL },
        onUnhandledRequest: 'bypass',
        quiet: true,
      });
      this.worker = worker;
      this.connections = connections;
      this.endpoints = endpoints;
      if (this.closed) return;
      await this.buildFeed();
      if (this.closed) return;
      this.phase = 'ready';
    } catch (error) {
      if (this.closed) return;
      console.error(error);
      this.phase = 'failed';
      this.problem = {
        title: 'The playground could not start its mock server',
        message: `${error instanceof Error ? error.message.split('\n')[0] : String(error)}. Reload the page to try again; private windows and some browser settings block service workers.`,
      };
    }
  }

  /** Stops every client, timer, stream and socket, then the msw worker. The view is closing. */
  close(): Promise<void> {
    this.closed = true;
    this.generation++;
    for (const p of PROTOCOLS) this.stopClient(p);
    this.pauseFeed();
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.connections?.closeAll();
    this.server.reset();
    this.schedule?.dispose();
    this.schedule = null;
    this.spare?.dispose?.();
    this.spare = null;
    const worker = this.worker;
    this.worker = null;
    const run = lifecycle.then(async () => {
      if (!worker) return;
      worker.stop();
      // Leave no service worker behind: the rest of the site does not need one.
      const registrations = await navigator.serviceWorker.getRegistrations();
      const url = new URL(WORKER_URL, location.href).href;
      await Promise.all(
        registrations
          .filter((r) => (r.active ?? r.waiting ?? r.installing)?.scriptURL === url)
          .map((r) => r.unregister()),
      );
    });
    lifecycle = run.catch(() => undefined);
    return run;
  }

  // ---- The feed.

  get feedOptions(): FeedOptions {
    return { ...DEFAULT_FEED, seed: this.seed, rate: this.rate };
  }

  private async buildFeed(): Promise<void> {
    const options = this.feedOptions;
    const [first, spare] = await Promise.all([
      createFeedSimulation(options),
      createFeedSimulation(options),
    ]);
    if (this.closed) {
      first.dispose();
      spare.dispose();
      return;
    }
    this.schedule?.dispose();
    this.spare?.dispose?.();
    this.spare = spare;
    // Each replay of the simulated hour takes the spare run and builds the next one meanwhile.
    this.schedule = new FeedSchedule(first, () => {
      const next = this.spare;
      this.spare = null;
      if (next)
        void createFeedSimulation(options).then((s) => {
          if (this.closed || this.feedOptions.seed !== options.seed) s.dispose();
          else this.spare = s;
        });
      return next;
    });
    this.price = 100;
  }

  /** A new seed or rate: a new feed from seq 1; running clients start over against it. */
  async setFeed(changes: Partial<Pick<FeedOptions, 'seed' | 'rate'>>): Promise<void> {
    const wasRunning = PROTOCOLS.filter((p) => this.running[p]);
    for (const p of PROTOCOLS) this.stopClient(p);
    this.pauseFeed();
    this.connections?.closeAll();
    if (changes.seed !== undefined) this.seed = changes.seed;
    if (changes.rate !== undefined) this.rate = changes.rate;
    this.server.reset();
    this.clock.pause(performance.now());
    this.clock.reset();
    this.published = 0;
    this.simUs = 0;
    this.clearLogs();
    if (this.phase !== 'ready') return;
    await this.buildFeed();
    for (const p of wasRunning) this.start(p);
  }

  setSpeed(speed: number): void {
    this.speed = speed;
    this.clock.setSpeed(speed, performance.now());
    if (this.clock.running) this.schedulePump(0);
  }

  setHold(seconds: number): void {
    this.holdS = seconds;
    this.server.holdMs = seconds * 1000;
  }

  /** Poll interval changes apply from the next request: a running poller restarts. */
  setPollInterval(ms: number): void {
    this.pollIntervalMs = ms;
    if (this.running.polling) {
      this.stopClient('polling');
      this.start('polling');
    }
  }

  private resumeFeed(): void {
    if (this.clock.running || !this.schedule) return;
    this.clock.setSpeed(this.speed, performance.now());
    this.clock.start(performance.now());
    this.lastPumpMs = performance.now();
    this.feedRunning = true;
    this.schedulePump(0);
  }

  private pauseFeed(): void {
    clearTimeout(this.feedTimer);
    this.feedTimer = undefined;
    this.clock.pause(performance.now());
    this.feedRunning = false;
  }

  private schedulePump(ms: number): void {
    clearTimeout(this.feedTimer);
    this.feedTimer = setTimeout(this.pump, ms);
  }

  /** Publishes every update that is due, then sleeps until the next one (or PUMP_MAX_MS). */
  private readonly pump = (): void => {
    this.feedTimer = undefined;
    const schedule = this.schedule;
    if (!schedule || !this.clock.running || this.closed) return;
    const now = performance.now();
    if (now - this.lastPumpMs > STALL_MS && this.lastPumpMs > 0) {
      this.clock.pause(this.lastPumpMs + PUMP_MAX_MS);
      this.clock.start(now);
    }
    this.lastPumpMs = now;
    const simNow = this.clock.simAt(now);
    // Look a little ahead, so the next update's due time is known and its timer can be exact.
    schedule.advance(simNow + PUMP_MAX_MS * 1000 * this.clock.speed);
    for (const item of schedule.takeDue(simNow)) this.publishItem(item);
    const next = schedule.nextUs();
    const wait = next === undefined ? PUMP_MAX_MS : this.clock.wallAt(next) - now;
    this.simUs = simNow;
    this.schedulePump(Math.min(PUMP_MAX_MS, Math.max(0, wait)));
  };

  private publishItem(item: FeedItem): void {
    const seed = this.seed;
    const fromClient = item.origin >= 0;
    if (!fromClient) this.price = nextPrice(this.price, seed, item.simId + item.cycle * 1e7);
    this.server.publish(
      {
        id: item.simId,
        channel: FEED_CHANNEL,
        createdUs: item.createdUs,
        from: fromClient ? 'client' : 'server',
        ...(fromClient
          ? { text: `client ${item.origin}: ${chatLine(seed, item.simId)}` }
          : { price: this.price }),
        payloadBytes: item.payloadBytes,
      },
      // The update's creation instant on the page's clock: what latency is measured from.
      this.clock.wallAt(item.createdUs),
    );
    this.published = this.server.latestSeq;
  }

  private publishClientMessage(text: string): void {
    if (this.closed) return;
    const now = performance.now();
    this.server.publish(
      {
        id: -1,
        channel: FEED_CHANNEL,
        createdUs: this.clock.simAt(now),
        from: 'you',
        text,
        payloadBytes: 1,
      },
      now,
    );
    this.published = this.server.latestSeq;
  }

  // ---- The clients.

  start(p: Protocol): void {
    if (this.phase !== 'ready' || this.running[p] || !this.endpoints) return;
    const token = ++this.tokens[p];
    const report = this.reportFor(p, token);
    const e = this.endpoints;
    this.setConn(p, 'active');
    if (p === 'polling')
      this.stops[p] = startPolling(CLIENT_PATHS.poll, this.pollIntervalMs, report);
    else if (p === 'long-polling') this.stops[p] = startLongPolling(CLIENT_PATHS.longPoll, report);
    // Each stream gets an id in its URL, which the browser keeps on its own reconnects: the mock
    // server's fallback for resuming when Last-Event-ID cannot reach it (see handlers.ts).
    else if (p === 'sse')
      this.stops[p] = startSse(
        `${CLIENT_PATHS.stream}?stream=${token}-${Date.now().toString(36)}`,
        report,
      );
    else {
      const socket = startWebSocket(e.socket, WS_RECONNECT_MS, report);
      this.socket = socket;
      this.stops[p] = () => socket.stop();
    }
    this.running = { ...this.running, [p]: true };
    this.resumeFeed();
  }

  stop(p: Protocol): void {
    this.stopClient(p);
    if (!PROTOCOLS.some((q) => this.running[q])) this.pauseFeed();
  }

  toggle(p: Protocol): void {
    if (this.running[p]) this.stop(p);
    else this.start(p);
  }

  startAll(): void {
    for (const p of PROTOCOLS) this.start(p);
  }

  stopAll(): void {
    for (const p of PROTOCOLS) this.stop(p);
  }

  get anyRunning(): boolean {
    return PROTOCOLS.some((p) => this.running[p]);
  }

  private stopClient(p: Protocol): void {
    this.tokens[p]++;
    this.stops[p]?.();
    delete this.stops[p];
    if (p === 'websocket') this.socket = null;
    if (this.running[p]) this.running = { ...this.running, [p]: false };
    this.setConn(p, 'idle');
    this.scheduleFlush();
  }

  /** The server drops every SSE stream (a network failure); EventSource reconnects and resumes. */
  dropSse(): number {
    const n = this.connections?.dropStreams() ?? 0;
    if (n) this.serverNote('sse', `server drops the stream at #${this.server.latestSeq}`);
    return n;
  }

  /** The server drops every WebSocket; the client reconnects after a delay and reports the gap. */
  dropWebSocket(): number {
    const n = this.connections?.dropSockets() ?? 0;
    if (n) this.serverNote('websocket', `server drops the connection at #${this.server.latestSeq}`);
    return n;
  }

  /** A line in a protocol's log about what the mock server did. */
  private serverNote(p: Protocol, text: string): void {
    if (!this.running[p] || this.closed) return;
    this.buffered[p].push({
      key: ++this.entryKey,
      atMs: Date.now(),
      kind: 'server',
      text,
      seqs: [],
      bytes: 0,
    });
    this.scheduleFlush();
  }

  /** Sends a chat line up the WebSocket; the server publishes it to every protocol. */
  sendWebSocket(text: string): boolean {
    const clean = text.trim();
    if (!clean || !this.socket) return false;
    return this.socket.send(clean);
  }

  clearLogs(): void {
    for (const p of PROTOCOLS) {
      this.live[p] = emptyCounters();
      this.buffered[p] = [];
    }
    this.logs = perProtocol(() => []);
    this.counters = perProtocol(emptyCounters);
  }

  // ---- The instrument: turns the clients' reports into log entries and counters.

  private reportFor(p: Protocol, token: number): Report {
    const current = () => token === this.tokens[p] && !this.closed;
    const add = (kind: EntryKind, text: string, extra: Partial<LogEntry> = {}) => {
      this.buffered[p].push({
        key: ++this.entryKey,
        atMs: Date.now(),
        kind,
        text,
        seqs: [],
        bytes: 0,
        ...extra,
      });
      this.scheduleFlush();
    };
    const arrived = (updates: Update[], bytes: number, isResponse: boolean) => {
      const { counters, entry } = receive(
        this.live[p],
        updates,
        bytes,
        performance.now(),
        (seq) => this.server.record(seq)?.createdAtMs,
        isResponse,
      );
      this.live[p] = counters;
      return entry;
    };
    return {
      request: (what) => {
        if (!current()) return;
        this.live[p] = { ...this.live[p], requests: this.live[p].requests + 1 };
        add('request', what);
      },
      response: (updates, bytes) => {
        if (!current()) return;
        const entry = arrived(updates, bytes, true);
        const text =
          updates.length === 0
            ? '200 [] nothing new'
            : `200 ${updates.length} update${updates.length === 1 ? '' : 's'} ${seqLabel(entry.seqs)} · ${describe(headline(updates))}`;
        add(updates.length === 0 ? 'empty' : 'response', text, entry);
      },
      message: (update, bytes, detail) => {
        if (!current()) return;
        const entry = arrived([update], bytes, false);
        add(
          'message',
          `${seqLabel(entry.seqs)} · ${describe(update)}${detail ? ` (${detail})` : ''}`,
          entry,
        );
      },
      open: (what) => {
        if (!current()) return;
        if (this.liveConn[p] === 'retrying')
          this.live[p] = { ...this.live[p], reconnects: this.live[p].reconnects + 1 };
        this.setConn(p, 'open');
        add('open', what);
      },
      closed: (what, retryMs) => {
        if (!current()) return;
        this.setConn(p, 'retrying');
        add('closed', retryMs ? `${what}; retry in ${retryMs} ms` : what);
      },
      sent: (what, bytes) => {
        if (!current()) return;
        add('sent', what, { bytes });
      },
    };
  }

  private setConn(p: Protocol, state: ConnectionState): void {
    this.liveConn[p] = state;
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushTimer !== undefined || this.closed) return;
    this.flushTimer = setTimeout(this.flush, FLUSH_MS);
  }

  private readonly flush = (): void => {
    this.flushTimer = undefined;
    const logs = { ...this.logs };
    for (const p of PROTOCOLS) {
      logs[p] = prependCapped(logs[p], this.buffered[p]);
      this.buffered[p] = [];
    }
    this.logs = logs;
    this.counters = { ...this.live };
    this.connection = { ...this.liveConn };
  };
}

/** The update a batch's log line describes: a message you sent if there is one, else the newest. */
function headline(updates: Update[]): Update {
  return updates.findLast((u) => u.from === 'you') ?? updates[updates.length - 1];
}

/** One line about an update: its price, or who said what. */
function describe(u: Update): string {
  if (u.price !== undefined) return `price ${u.price.toFixed(2)}`;
  if (u.from === 'you') return `you: “${u.text ?? ''}”`;
  return u.text ?? '';
}
