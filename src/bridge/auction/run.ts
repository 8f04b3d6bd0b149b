// One auction bridge run: the simulator's bids replayed through a real bid path and store (Redis or in-process), measured, checked and set beside the simulated run.
import {
  OUT_ACCEPTED,
  OUT_ENDED,
  OUT_GAVE_UP,
  OUT_RATE_LIMITED,
  OUT_TOO_LOW,
  outcomeName,
} from '../../sim/apps/live-auction/outcomes.ts';
import { ScenarioError } from '../../scenario/errors.ts';
import { getScenario } from '../../scenario/registry.ts';
import { resolveRun, type RunSpec } from '../../scenario/resolve.ts';
import type { AcceptedWrite, LiveAuctionApp } from '../../sim/apps/live-auction/app.ts';
import type { LiveAuctionSpec } from '../../sim/apps/live-auction/schema.ts';
import { checkAuction } from '../../sim/checkers/auction.ts';
import { sampler } from '../../sim/dist.ts';
import type { TwoHopSimulation } from '../../sim/models/two-hop/model.ts';
import { Rng } from '../../sim/rng.ts';
import { createSimulation } from '../../sim/simulation.ts';
import { nowUs } from '../common.ts';
import { DelayLine, linkDelay } from '../netem.ts';
import {
  auctionPopulation,
  auctionSchedule,
  auctionSpec,
  BidDrawer,
  checkAgainstSimulator,
  firstEndUs,
  type ScheduledBid,
} from './schedule.ts';
import {
  beats,
  InProcessAuctionStore,
  RedisAuctionStore,
  type AuctionStore,
  type BidRule,
  type Standing,
  type StoreSession,
} from './store.ts';

/**
 * Limits sized for this 2-core machine (see ARCHITECTURE.md, "The bridge"): the bids are sent in
 * real time, so a run lasts its window; a scenario whose duration is the default (120 s) replays
 * its first 10 s, and at most 60 s on request. One Node process plays every bidder: measured with
 * Redis and optimistic control, at 2,000 bids/s the bid path's p50 still matches the simulator's
 * (5.0 ms both), at ~3,900/s its p99 doubles, and at ~7,500/s the run saturates (p50 385 ms), so
 * denser schedules are refused, as are more than 20,000 bids. 32 sessions (Redis connections)
 * serve the bids in flight; one bid holds one from its first store command to its answer.
 */
export const AUCTION_DEFAULT_WINDOW_S = 10;
export const AUCTION_MAX_WINDOW_S = 60;
export const AUCTION_MAX_BIDS = 20_000;
export const AUCTION_MAX_BIDS_PER_SEC = 2_000;
export const AUCTION_SESSIONS = 32;

export interface AuctionBridgeOptions {
  /** `redis://host:port`; absent: the in-process store. */
  redisUrl?: string;
  signal?: AbortSignal;
  /** The in-process store's one-way delay per request and reply, µs (default: a setImmediate turn). */
  inProcessOneWayUs?: number;
  sessions?: number;
  /** About 4 times a second while the bids play. */
  onProgress?: (p: { tS: number; sent: number; answered: number; inFlight: number }) => void;
}

export interface BidCounts {
  sent: number;
  accepted: number;
  /** Every answer but accepted: too low, auction ended, rate limited, given up after retries. */
  rejected: number;
  tooLow: number;
  ended: number;
  rateLimited: number;
  lostUpdates: number;
  retries: number;
  gaveUp: number;
  execAttempts: number;
  execFailures: number;
  /** Simulated: bids still unanswered when the run's clock stopped (the bridge waits for all). */
  pending: number;
}

export interface LatencyMs {
  p50: number;
  p99: number;
  max: number;
  count: number;
}

export interface CheckerFigures {
  /** Accepted writes in the store's order (the simulator's writes; the real store's log). */
  writes: number;
  lostUpdates: number;
  /** Auctions whose standing bid is not the highest accepted one. */
  notHighest: number;
  /** The checker's lost updates equal the bid path's own count, and writes equal accepted. */
  agrees: boolean;
}

export interface AuctionSide {
  bids: BidCounts;
  /** The bid path: from the bid reaching the gateway to the answer leaving (no bidder network). */
  latencyMs: LatencyMs;
  checker: CheckerFigures;
  /** The guide's two simultaneous bids of the same amount on auction 0. */
  conflict: { first: string; second: string } | null;
}

export interface AuctionBridgeReport {
  scenario: string;
  seed: number;
  control: LiveAuctionSpec['control'];
  store: 'redis' | 'in-process';
  /** `redis://host:port` or `in-process`. */
  broker: string;
  redisVersion: string | null;
  /** Redis: the prefix every key of the run had (all deleted at the end); null in-process. */
  keyPrefix: string | null;
  /** Simulated seconds both sides cover (the replay's wall-clock length). */
  windowS: number;
  schedule: {
    /** Bids the simulator's bidders sent in the window, and bids the replay sent. */
    simulated: number;
    replayed: number;
    /** The replay's bids are the simulator's, bid for bid (time, auction, watcher, increments). */
    sameAsSimulator: boolean;
  };
  simulated: AuctionSide & { roundTripMs: LatencyMs };
  measured: AuctionSide & {
    /** The real read → write gap the naive and optimistic paths waited (timer of decideUs). */
    decideGapMs: { p50: number; p99: number } | null;
    /** One store round trip here (median of 50 GETs of an absent key), µs. */
    storeRttUs: number;
    sessions: number;
    sessionWaits: number;
    /** Keys of the run left in the store after clean-up (0). */
    keysLeft: number;
    wallS: number;
    aborted: boolean;
  };
  notes: string[];
}

/** The run the bridge replays: the user's, on a window this machine plays in real time. */
export function auctionRun(run: RunSpec): { run: RunSpec; notes: string[] } {
  auctionSpec(run);
  const sc = run.scenario;
  const file = getScenario(sc.id);
  const decl = file.parameters.find((p) => p.name === 'duration');
  const notes: string[] = [];
  let windowS = sc.durationS;
  if (decl && run.params.duration === decl.default && windowS > AUCTION_DEFAULT_WINDOW_S) {
    windowS = AUCTION_DEFAULT_WINDOW_S;
    notes.push(
      `the bids are replayed in real time: both sides run the first ${windowS} s of the ${sc.durationS} s scenario (--duration up to ${AUCTION_MAX_WINDOW_S} for more)`,
    );
  } else if (windowS > AUCTION_MAX_WINDOW_S)
    throw new ScenarioError(
      'duration',
      `the bridge replays bids in real time, at most ${AUCTION_MAX_WINDOW_S} s of them; got ${windowS} s — set --duration ${AUCTION_MAX_WINDOW_S} or less`,
    );
  if (windowS === sc.durationS) return { run, notes };
  const delta: Record<string, string | number> = {};
  for (const p of file.parameters)
    if (run.params[p.name] !== p.default) delta[p.name] = run.params[p.name];
  delta.duration = windowS;
  return { run: { ...resolveRun(file, delta, run.seed), seed: run.seed }, notes };
}

interface Simulated {
  side: AuctionSide & { roundTripMs: LatencyMs };
  sent: number;
  writes: AcceptedWrite[];
}

type AppStats = ReturnType<LiveAuctionApp['stats']>;

const pick = (s: { p50: number; p99: number; max: number; count: number }): LatencyMs => ({
  p50: s.p50,
  p99: s.p99,
  max: s.max,
  count: s.count,
});

/** The simulator on exactly the run the bridge replays, with the checker over its writes. */
async function simulate(run: RunSpec, rule: BidRule, channels: number): Promise<Simulated> {
  const sim = (await createSimulation(run)) as TwoHopSimulation;
  try {
    while (!sim.done) sim.runUntil(sim.durationUs, 200_000);
    const r = sim.result(0) as unknown as AppStats;
    const app = sim.caseApp() as LiveAuctionApp;
    const writes = app.writes.slice();
    const report = checkAuction(writes, channels, rule.startPrice, rule.minIncrement);
    const b = r.bids;
    return {
      sent: b.sent,
      writes,
      side: {
        bids: {
          sent: b.sent,
          accepted: b.accepted,
          rejected: b.rejected,
          tooLow: b.tooLow,
          ended: b.ended,
          rateLimited: b.rateLimited,
          lostUpdates: b.lostUpdates,
          retries: b.retries,
          gaveUp: b.gaveUp,
          execAttempts: b.execAttempts,
          execFailures: b.execFailures,
          pending: b.pending,
        },
        latencyMs: pick(b.processingMs),
        roundTripMs: pick(b.latencyMs),
        checker: {
          writes: report.writes,
          lostUpdates: report.lostUpdates.length,
          notHighest: report.notHighest.length,
          agrees: report.writes === b.accepted && report.lostUpdates.length === b.lostUpdates,
        },
        conflict: r.conflict,
      },
    };
  } finally {
    sim.dispose();
  }
}

/** A real wait: a timer for `us` (Node's timers wait at least 1 ms), or one event-loop turn. */
function pause(us: number): Promise<void> {
  return new Promise((resolve) =>
    us > 0 ? setTimeout(resolve, us / 1000) : setImmediate(resolve),
  );
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

function latencyOf(values: number[]): LatencyMs {
  const s = Float64Array.from(values).sort();
  return {
    p50: round3(quantile(s, 0.5) / 1000),
    p99: round3(quantile(s, 0.99) / 1000),
    max: round3((s.length ? s[s.length - 1] : 0) / 1000),
    count: s.length,
  };
}

/** Writes a bid's view looks back over before taking the rest as seen (hot auctions: ~5 in flight). */
const FEED_LOOKBACK = 64;

const gapOf = (l: LatencyMs) => ({ p50: l.p50, p99: l.p99 });

/** What one auction's bidders have been shown: accepted writes with when, as a running maximum. */
class Feed {
  readonly t: number[] = [];
  readonly max: number[] = [];

  push(tUs: number, amount: number): void {
    const prev = this.max.length ? this.max[this.max.length - 1] : -Infinity;
    this.t.push(tUs);
    this.max.push(Math.max(prev, amount));
  }

  /**
   * The highest amount a watcher has been shown by `tUs` (-Infinity: nothing yet). Each write
   * reaches it after its own drawn delay, as each delivery does in the simulator; newest first,
   * the first write that has arrived bounds it (everything older is counted in its running max,
   * and writes further back than FEED_LOOKBACK are taken as arrived).
   */
  shownBy(tUs: number, delayUs: () => number): number {
    const n = this.t.length;
    for (let i = n - 1; i >= Math.max(0, n - FEED_LOOKBACK); i--)
      if (this.t[i] + delayUs() <= tUs) return this.max[i];
    return n > FEED_LOOKBACK ? this.max[n - FEED_LOOKBACK - 1] : -Infinity;
  }
}

/**
 * The bid path for real. Bids leave at the simulator's times; each decides its amount from the
 * price its watcher last saw, crosses an emulated uplink, waits the gateway's and the service's
 * time, and then runs the control's commands against the store for real, with a real decide gap
 * between read and write. Every store write is also logged in the store's own order.
 */
class Replay {
  private readonly spec: LiveAuctionSpec;
  private readonly rule: BidRule;
  private readonly t0: number;
  private readonly line = new DelayLine(nowUs);
  private readonly seen: Float64Array;
  private readonly feeds = new Map<number, Feed>();
  /** Each auction's end on the replay's clock (soft close moves it). */
  private readonly endUs: Float64Array;
  private readonly tokens: Float64Array;
  private readonly tokensAtUs: Float64Array;
  private readonly uplinkUs: () => number;
  private readonly feedUs: (() => number)[];
  /** Bids sent and not yet answered (on their uplink or in the bid path). */
  private outstanding = 0;
  private idle: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private failure: unknown = null;
  private stopped = false;
  private allSent!: () => void;
  private readonly scheduled: Promise<void>;

  readonly counts: BidCounts = {
    sent: 0,
    accepted: 0,
    rejected: 0,
    tooLow: 0,
    ended: 0,
    rateLimited: 0,
    lostUpdates: 0,
    retries: 0,
    gaveUp: 0,
    execAttempts: 0,
    execFailures: 0,
    pending: 0,
  };
  readonly latencies: number[] = [];
  readonly gaps: number[] = [];
  /** The bid path's own lost updates where it knows what it replaced (optimistic, atomic). */
  pathLost = 0;
  answered = 0;
  readonly touched = new Set<number>();
  readonly scripted: number[] = [0, 0];
  extensions = 0;

  constructor(
    run: RunSpec,
    private readonly drawer: BidDrawer,
    private readonly store: AuctionStore,
  ) {
    const sc = run.scenario;
    if (sc.model !== 'two-hop') throw new Error('not an auction run');
    this.spec = auctionSpec(run);
    this.rule = this.spec.auctions;
    this.seen = new Float64Array(drawer.slots).fill(this.rule.startPrice);
    this.endUs = Float64Array.from(drawer.endUs);
    this.tokens = new Float64Array(drawer.users).fill(this.spec.bids.rateLimitBurst);
    this.tokensAtUs = new Float64Array(drawer.users);
    const links = sc.topology.links;
    // The bidder's uplink: the app's own user-link draw (its latency, no jitter).
    const uplinkMs = sampler(
      links.serverToUser.latencyMs,
      new Rng(run.seed, 'bridge/auction/uplink'),
    );
    this.uplinkUs = () => uplinkMs() * 1000;
    // BID_UPDATE's way to a watcher's screen, as the simulator's bidders see it: source →
    // broker → server → the watcher (hop 1 included).
    this.feedUs = [links.sourceToBroker, links.brokerToServer, links.serverToUser].map((l, i) =>
      linkDelay(
        { kind: 'dist', latencyMs: l.latencyMs, jitterMs: l.jitterMs },
        run.seed,
        'auction/feed',
        i,
      ),
    );
    this.scheduled = new Promise((resolve) => (this.allSent = resolve));
    this.t0 = nowUs() + 20_000;
  }

  nowRelUs(): number {
    return nowUs() - this.t0;
  }

  private ended = (c: number, atUs: number) => atUs >= this.endUs[c];
  private feedDelayUs = () => this.feedUs[0]() + this.feedUs[1]() + this.feedUs[2]();

  /**
   * Plays every bid; resolves once every bid sent is answered. Stopping (abort, a store failure)
   * sends no more bids; those already sent still finish, so the store is quiet before clean-up.
   */
  async play(signal?: AbortSignal): Promise<void> {
    const onAbort = () => this.stop();
    if (signal?.aborted) this.stop();
    signal?.addEventListener('abort', onAbort);
    try {
      this.arm();
      await this.scheduled;
      if (this.outstanding > 0) await new Promise<void>((resolve) => (this.idle = resolve));
      if (this.failure) throw this.failure;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.stop();
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.stopped = true;
    this.allSent();
  }

  get inFlightCount(): number {
    return this.outstanding;
  }

  private finished(): void {
    this.outstanding--;
    if (this.outstanding === 0 && this.idle) {
      const idle = this.idle;
      this.idle = null;
      idle();
    }
  }

  private arm(): void {
    if (this.stopped) return;
    const next = this.drawer.peekUs();
    if (next === Infinity) return this.allSent();
    this.timer = setTimeout(() => this.pump(), Math.max(0, (next - this.nowRelUs()) / 1000));
  }

  /** Sends every bid that is due (within the half millisecond a timer cannot resolve). */
  private pump(): void {
    this.timer = null;
    const now = this.nowRelUs();
    while (!this.stopped && this.drawer.peekUs() <= now + 500) {
      const b = this.drawer.next(this.ended);
      if (!b) break;
      if (this.counts.sent >= AUCTION_MAX_BIDS) {
        this.stop();
        return;
      }
      this.send(b);
    }
    this.arm();
  }

  /** The bidder clicks: its amount is what it last saw plus its increments (the app's rule). */
  private send(b: ScheduledBid): void {
    this.counts.sent++;
    let amount = b.fixedAmount;
    if (b.scripted < 0) {
      const shown = this.feeds.get(b.auction)?.shownBy(b.sentUs, this.feedDelayUs) ?? -Infinity;
      if (shown > this.seen[b.slot]) this.seen[b.slot] = shown;
      amount = this.seen[b.slot] + this.rule.minIncrement * b.increments;
    }
    const arrive = this.t0 + b.sentUs + this.uplinkUs();
    this.outstanding++;
    this.line.at(arrive, () => {
      // After a store failure the rest are not run (they would fail the same way).
      if (this.failure) return this.finished();
      this.bid(b, amount)
        .catch((e: unknown) => {
          this.failure ??= e;
          this.stop();
        })
        .finally(() => this.finished());
    });
  }

  private async bid(b: ScheduledBid, amount: number): Promise<void> {
    const arrived = this.nowRelUs();
    const path = this.spec.bidPath;
    const lim = this.spec.bids;
    // Gateway: the bidder's token bucket (refill since its last bid, spend one).
    const u = b.bidder;
    const refill = ((arrived - this.tokensAtUs[u]) / 1e6) * lim.rateLimitPerSec;
    this.tokens[u] = Math.min(lim.rateLimitBurst, this.tokens[u] + refill);
    this.tokensAtUs[u] = arrived;
    let outcome: number;
    if (this.tokens[u] < 1) {
      await pause(path.gatewayUs);
      outcome = OUT_RATE_LIMITED;
    } else {
      this.tokens[u] -= 1;
      await pause(path.gatewayUs + path.serviceUs);
      const session = await this.store.acquire();
      try {
        outcome = await this.control(session, b, amount);
      } finally {
        this.store.release(session);
      }
    }
    this.latencies.push(this.nowRelUs() - arrived);
    this.answered++;
    const c = this.counts;
    if (outcome === OUT_ACCEPTED) c.accepted++;
    else {
      c.rejected++;
      if (outcome === OUT_TOO_LOW) c.tooLow++;
      else if (outcome === OUT_ENDED) c.ended++;
      else if (outcome === OUT_RATE_LIMITED) c.rateLimited++;
    }
    if (b.scripted >= 0) this.scripted[b.scripted] = outcome;
  }

  private async decide(): Promise<void> {
    const start = this.nowRelUs();
    await pause(this.spec.bidPath.decideUs);
    this.gaps.push(this.nowRelUs() - start);
  }

  /** The auction is over on the replay's clock (the service checks just before it writes). */
  private over(a: number): boolean {
    return this.nowRelUs() > this.endUs[a];
  }

  private async control(s: StoreSession, b: ScheduledBid, amount: number): Promise<number> {
    const a = b.auction;
    const path = this.spec.bidPath;
    const value: Standing = { amount, bidder: b.bidder, bid: b.index };
    this.touched.add(a);
    switch (this.spec.control) {
      case 'naive': {
        const cur = await s.get(a);
        if (!beats(amount, cur, this.rule)) {
          await pause(path.serviceUs);
          return OUT_TOO_LOW;
        }
        await this.decide();
        if (this.over(a)) return OUT_ENDED;
        // A blind write of what was decided on the earlier read: a bid written in between is
        // replaced whether or not this one beats it.
        await s.write(a, value);
        return this.accepted(a, amount, false, null);
      }
      case 'optimistic': {
        for (let tries = 0; ; tries++) {
          const cur = await s.watchGet(a);
          if (!beats(amount, cur, this.rule)) {
            await s.unwatch();
            await pause(path.serviceUs);
            return OUT_TOO_LOW;
          }
          await this.decide();
          if (this.over(a)) {
            await s.unwatch();
            return OUT_ENDED;
          }
          this.counts.execAttempts++;
          if (await s.execWrite(a, value)) return this.accepted(a, amount, true, cur);
          this.counts.execFailures++;
          if (tries >= path.maxRetries) {
            this.counts.gaveUp++;
            return OUT_GAVE_UP;
          }
          this.counts.retries++;
          await pause(path.retryBackoffUs);
        }
      }
      case 'atomic': {
        if (this.over(a)) return OUT_ENDED;
        const r = await s.compareAndSet(a, value);
        if (!r.accepted) return OUT_TOO_LOW;
        return this.accepted(a, amount, true, r.current);
      }
    }
  }

  /**
   * An accepted write: watchers are shown it (after their drawn delay), a late one moves the end
   * (soft close), and where the path knows what it replaced (`known`: optimistic read it under
   * WATCH, the script compared with it) it checks the rule itself; naive's blind SET does not know.
   */
  private accepted(a: number, amount: number, known: boolean, replaced: Standing | null): number {
    const now = this.nowRelUs();
    let feed = this.feeds.get(a);
    if (!feed) this.feeds.set(a, (feed = new Feed()));
    feed.push(now, amount);
    const close = this.spec.softClose;
    if (close.extendS > 0 && this.endUs[a] - now < close.windowS * 1e6) {
      const end = Math.round(now + close.extendS * 1e6);
      if (end > this.endUs[a]) {
        this.endUs[a] = end;
        this.extensions++;
      }
    }
    if (known && !beats(amount, replaced, this.rule)) this.pathLost++;
    return OUT_ACCEPTED;
  }
}

/** How long one store round trip takes here: the median of 50 sequential reads of an absent key. */
async function storeRttUs(store: AuctionStore): Promise<number> {
  const s = await store.acquire();
  try {
    const times: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t = nowUs();
      await s.get(-1);
      times.push(nowUs() - t);
    }
    times.sort((x, y) => x - y);
    return Math.round(times[25]);
  } finally {
    store.release(s);
  }
}

function brokerLabel(url: string | undefined): string {
  if (!url) return 'in-process';
  const u = new URL(url);
  return `${u.protocol}//${u.hostname}:${u.port || 6379}`;
}

/** The store's writes, auction by auction in the store's order, as the checker reads them. */
async function storeWrites(
  store: AuctionStore,
  auctions: Iterable<number>,
  rule: BidRule,
): Promise<AcceptedWrite[]> {
  const out: AcceptedWrite[] = [];
  for (const a of [...auctions].sort((x, y) => x - y)) {
    let replaced = rule.startPrice;
    for (const [i, w] of (await store.log(a)).entries()) {
      out.push({ bid: w.bid, auction: a, amount: w.amount, replaced, atUs: i });
      replaced = w.amount;
    }
  }
  return out;
}

/**
 * Runs the auction bridge: resolves the window, draws the simulator's bids, runs the simulator on
 * exactly that run, replays the bids against the store, reads the store's write log back for the
 * checker, deletes the run's keys and reports both sides.
 */
export async function runAuctionBridge(
  userRun: RunSpec,
  opts: AuctionBridgeOptions = {},
): Promise<AuctionBridgeReport> {
  const { run, notes } = auctionRun(userRun);
  const sc = run.scenario;
  const spec = auctionSpec(run);
  const rule: BidRule = spec.auctions;
  const windowS = sc.durationS;
  const pop = auctionPopulation(run);
  const planned = auctionSchedule(run, pop);
  const perSec = planned.bids / windowS;
  if (perSec > AUCTION_MAX_BIDS_PER_SEC)
    throw new ScenarioError(
      'bidRate',
      `${sc.id} sends ${Math.round(perSec)} bids/s; the bridge replays at most ${AUCTION_MAX_BIDS_PER_SEC} bids/s on this machine (measured on 2 cores) — lower --set bidRate (now ${spec.bids.perWatcherPerSec}) or users`,
    );
  if (planned.bids > AUCTION_MAX_BIDS)
    throw new ScenarioError(
      'duration',
      `${sc.id} sends ${planned.bids} bids in ${windowS} s; the bridge replays at most ${AUCTION_MAX_BIDS} — set --duration ${Math.max(1, Math.floor((windowS * AUCTION_MAX_BIDS) / planned.bids))} or less`,
    );
  const sessions = opts.sessions ?? AUCTION_SESSIONS;
  const store: AuctionStore = opts.redisUrl
    ? await RedisAuctionStore.open({ url: opts.redisUrl, rule, sessions }).catch((e: unknown) => {
        throw new ScenarioError(
          '--broker',
          `Redis at ${opts.redisUrl} failed while opening ${sessions} connections: ${(e as Error).message}`,
        );
      })
    : new InProcessAuctionStore({ rule, sessions, oneWayUs: opts.inProcessOneWayUs });
  let closed = false;
  try {
    const rtt = await storeRttUs(store);
    const replay = new Replay(run, new BidDrawer(run, pop), store);
    const started = nowUs();
    const progress = opts.onProgress
      ? setInterval(
          () =>
            opts.onProgress?.({
              tS: Math.max(0, replay.nowRelUs() / 1e6),
              sent: replay.counts.sent,
              answered: replay.answered,
              inFlight: replay.inFlightCount,
            }),
          250,
        )
      : null;
    try {
      await replay.play(opts.signal);
    } catch (e) {
      if (store.kind === 'redis')
        throw new ScenarioError(
          '--broker',
          `Redis at ${opts.redisUrl} failed during the run: ${(e as Error).message}`,
        );
      throw e;
    } finally {
      if (progress) clearInterval(progress);
    }
    const wallS = (nowUs() - started) / 1e6;
    const writes = await storeWrites(store, replay.touched, rule);
    closed = true;
    const keysLeft = await store.close();
    // The simulator runs after the replay, so its garbage is not collected while bids are timed.
    const simulated = await simulate(run, rule, pop.channels);
    const same = checkAgainstSimulator(planned, simulated.sent, simulated.writes);
    const report = checkAuction(writes, pop.channels, rule.startPrice, rule.minIncrement);
    const c = replay.counts;
    c.lostUpdates = report.lostUpdates.length;
    const loggedBids = new Set(writes.map((w) => w.bid));
    // Naive does not know what its blind SET replaced: only the log can say; the others must agree.
    const pathAgrees = spec.control === 'naive' || replay.pathLost === c.lostUpdates;
    const measured: AuctionBridgeReport['measured'] = {
      bids: c,
      latencyMs: latencyOf(replay.latencies),
      checker: {
        writes: report.writes,
        lostUpdates: report.lostUpdates.length,
        notHighest: report.notHighest.length,
        agrees: report.writes === c.accepted && loggedBids.size === writes.length && pathAgrees,
      },
      conflict:
        spec.conflict.enabled && planned.scripted[0] >= 0
          ? {
              first: outcomeName(replay.scripted[0], 'not sent'),
              second: outcomeName(replay.scripted[1], 'not sent'),
            }
          : null,
      decideGapMs: replay.gaps.length > 0 ? gapOf(latencyOf(replay.gaps)) : null,
      storeRttUs: rtt,
      sessions,
      sessionWaits: store.waits,
      keysLeft,
      wallS: Math.round(wallS * 100) / 100,
      aborted: opts.signal?.aborted ?? false,
    };
    notes.push(
      ...explain(run, {
        store,
        redisUrl: opts.redisUrl,
        same,
        planned: planned.bids,
        firstEnd: firstEndUs(planned),
        simulated: simulated.side,
        measured,
        extensions: replay.extensions,
      }),
    );
    return {
      scenario: sc.id,
      seed: run.seed,
      control: spec.control,
      store: store.kind,
      broker: brokerLabel(opts.redisUrl),
      redisVersion: store.version,
      keyPrefix: store.kind === 'redis' ? store.prefix : null,
      windowS,
      schedule: { simulated: simulated.sent, replayed: c.sent, sameAsSimulator: same },
      simulated: simulated.side,
      measured,
      notes,
    };
  } finally {
    if (!closed) await store.close().catch(() => 0);
  }
}

/** The report's notes: what was real, what was emulated, and why the two sides may differ. */
function explain(
  run: RunSpec,
  x: {
    store: AuctionStore;
    redisUrl?: string;
    same: boolean;
    planned: number;
    firstEnd: number;
    simulated: AuctionSide;
    measured: AuctionBridgeReport['measured'];
    extensions: number;
  },
): string[] {
  const spec = auctionSpec(run);
  const path = spec.bidPath;
  const m = x.measured;
  const notes: string[] = [];
  notes.push(
    x.store.kind === 'redis'
      ? `store: Redis ${x.store.version} at ${brokerLabel(x.redisUrl)}, ${m.sessions} connections (one per bid in flight: WATCH is per connection); keys under ${x.store.prefix}:*, deleted at the end (${m.keysLeft} left); the compare-and-set script stays in Redis's script cache (it holds no data)`
      : `store: in-process (no --broker): one command at a time in this process, a setImmediate turn each way, the same three controls; pass --broker redis://127.0.0.1:6379 for a real Redis`,
  );
  notes.push(
    `store round trip here ${m.storeRttUs} µs (median) vs storeRttUs=${path.storeRttUs} modelled; the store's own time per command is real, not storeCommandUs=${path.storeCommandUs}`,
  );
  if (spec.control !== 'atomic')
    notes.push(
      `read → write gap: a real timer of decideUs=${path.decideUs} µs, measured p50 ${m.decideGapMs?.p50 ?? '—'} ms, p99 ${m.decideGapMs?.p99 ?? '—'} ms (Node's timers wait at least 1 ms and overshoot); a lost update needs a second write of the auction inside that window, so its count follows the real gap`,
    );
  notes.push(
    `latencyMs is the bid path from the gateway to the answer (the simulator's processingMs): gateway ${path.gatewayUs} µs and service ${path.serviceUs} µs are emulated waits, the store commands are real; the bidder's own network legs are simulated only (round trip p50 ${(x.simulated as { roundTripMs?: LatencyMs }).roundTripMs?.p50 ?? '—'} ms)`,
  );
  notes.push(
    'BID_UPDATE fan-out is not replayed: a bidder bids on the highest accepted write older than a drawn delay to its screen (source → broker → server → watcher), as the simulator’s bidders see prices once they arrive',
  );
  notes.push(
    x.same
      ? `the ${x.planned} bids are the simulator's, bid for bid (time, auction, watcher, increments); amounts follow what each side's bidders saw, so counts agree in kind, not exactly`
      : `the replayed bids are drawn with the simulator's rules and stream but are not its bids one for one (${x.planned} drawn vs ${m.bids.sent} replayed vs ${x.simulated.bids.sent} simulated): auctions end inside the window and soft close moves their ends by outcome`,
  );
  if (x.firstEnd < Infinity)
    notes.push(
      `auctions end from ${(x.firstEnd / 1e6).toFixed(1)} s; the service checks the end just before it writes (the simulator checks it in the store); soft close extended ${x.extensions} here`,
    );
  if (x.simulated.bids.pending > 0)
    notes.push(
      `the simulator stopped with ${x.simulated.bids.pending} bids unanswered; the bridge answers every bid it sent`,
    );
  if (m.sessionWaits > 0)
    notes.push(
      `${m.sessionWaits} bids waited for a free session (${m.sessions} in all): that wait is in their latency`,
    );
  if (m.aborted) notes.push('the run was stopped before every bid was sent');
  return notes;
}
