// The live auction's bid schedule, drawn exactly as the simulator's bidders draw it: same population, same app stream, same order.
import { ScenarioError } from '../../scenario/errors.ts';
import type { RunSpec } from '../../scenario/resolve.ts';
import type { LiveAuctionSpec } from '../../sim/apps/live-auction/schema.ts';
import { buildPopulation, type Population } from '../../sim/population.ts';
import { Rng } from '../../sim/rng.ts';

/**
 * Every bid the simulated bidders send in the run, in send order (index = the simulator's bid
 * number): when, on which auction, from which watcher, and how many increments over the price it
 * last saw. The amount itself is decided at send time from what the (real) bidder saw, as the
 * simulator decides it from what its bidder saw; the guide's two scripted bids have a fixed amount.
 */
export interface AuctionSchedule {
  spec: LiveAuctionSpec;
  durationUs: number;
  bids: number;
  sentUs: Float64Array;
  auction: Int32Array;
  /** The watcher (a population slot) who bids, and the user behind it (the rate limit's key). */
  slot: Int32Array;
  bidder: Int32Array;
  /** 1 … maxIncrements; 0 for a scripted bid. */
  increments: Int32Array;
  /** A scripted bid's amount; NaN otherwise. */
  fixedAmount: Float64Array;
  /** The bid numbers of the guide's two simultaneous bids (-1: not sent in this run). */
  scripted: [number, number];
  /** Each auction's end as first drawn (soft close moves it by outcome, which the replay applies). */
  endUs: Float64Array;
  channels: number;
  subscribers: Int32Array;
}

const BID = 0;
const SCRIPTED = 1;

interface QueueItem {
  t: number;
  seq: number;
  kind: number;
  arg: number;
}

const less = (x: QueueItem, y: QueueItem): boolean => x.t < y.t || (x.t === y.t && x.seq < y.seq);

/** The simulator's queue orders ties by insertion; so does this replica of it. */
class MiniQueue {
  private readonly items: QueueItem[] = [];
  private seq = 0;

  push(t: number, kind: number, arg: number): void {
    const a = this.items;
    const item = { t, seq: this.seq++, kind, arg };
    let i = a.length;
    a.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(item, a[p])) break;
      a[i] = a[p];
      i = p;
    }
    a[i] = item;
  }

  peek(): number {
    return this.items.length > 0 ? this.items[0].t : Infinity;
  }

  pop(): { t: number; kind: number; arg: number } | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const c = r < a.length && less(a[r], a[l]) ? r : l;
        if (!less(a[c], last)) break;
        a[i] = a[c];
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

/** The run's auction app, or a field-named error for any other scenario. */
export function auctionSpec(run: RunSpec): LiveAuctionSpec {
  const sc = run.scenario;
  const app = sc.model === 'two-hop' ? sc.topology.app : undefined;
  if (app?.kind !== 'live-auction')
    throw new ScenarioError('scenario', `${sc.id} is not a live-auction scenario`);
  return app;
}

/**
 * The run's population exactly as the two-hop model builds it (same spec, same stream), so the
 * auctions' watchers — and with them each auction's bid rate — are the simulator's own.
 */
export function auctionPopulation(run: RunSpec): Population {
  auctionSpec(run);
  const sc = run.scenario;
  if (sc.model !== 'two-hop') throw new Error('unreachable');
  const t = sc.topology;
  return buildPopulation(
    {
      users: t.users,
      servers: t.servers,
      channels: t.channels,
      subscriptionsPerUser: t.subscriptionsPerUser,
      maxConnections: t.server.maxConnections,
      balancer: t.loadBalancer,
      candidatesPerUser: t.shaping?.subscriptions.candidatesPerUser,
      sectorSize:
        t.shaping?.subscriptions.mode === 'pattern'
          ? t.shaping.subscriptions.sectorSize
          : undefined,
      zipfExponent: t.zipfExponent,
    },
    new Rng(run.seed).fork('population'),
  );
}

/** One bid as the simulated bidders send it. */
export interface ScheduledBid {
  /** The simulator's bid number (send order). */
  index: number;
  sentUs: number;
  auction: number;
  slot: number;
  bidder: number;
  /** 1 … maxIncrements; 0 for a scripted bid. */
  increments: number;
  /** A scripted bid's amount; NaN otherwise. */
  fixedAmount: number;
  /** 0 or 1 for the guide's two scripted bids; -1 otherwise. */
  scripted: number;
}

/**
 * Draws the bids of `run` the way `LiveAuctionApp` does (src/sim/apps/live-auction/app.ts): the
 * app's stream `fork('app')` is spent first on every user's clock (two normals), then per auction
 * on its end, its resync phase and its first bid gap, then — in event order — on each bid's next
 * gap, watcher and increments. Nothing else draws from that stream, so the bids are the
 * simulator's bid for bid as long as the auctions end when they end there. Whether an auction
 * has ended is asked of the caller at each bid's time: the replay answers with its real ends
 * (soft close moves them by outcome, as the simulator's does), `auctionSchedule` with the ends as
 * first drawn.
 */
export class BidDrawer {
  readonly spec: LiveAuctionSpec;
  readonly durationUs: number;
  readonly subscribers: Int32Array;
  /** Each auction's end as first drawn. */
  readonly endUs: Float64Array;
  private readonly pop: Population;
  private readonly rng: Rng;
  private readonly queue = new MiniQueue();
  private sent = 0;

  constructor(run: RunSpec, pop: Population = auctionPopulation(run)) {
    const spec = auctionSpec(run);
    this.spec = spec;
    this.pop = pop;
    this.durationUs = Math.round(run.scenario.durationS * 1e6);
    const channels = pop.channels;
    this.subscribers = new Int32Array(channels);
    for (let c = 0; c < channels; c++)
      for (let q = pop.channelPairStart[c]; q < pop.channelPairStart[c + 1]; q++)
        this.subscribers[c] += pop.pairMemberEnd[q] - pop.pairMemberStart[q];
    this.rng = new Rng(run.seed).fork('app');
    for (let u = 0; u < pop.users; u++) {
      this.rng.normal();
      this.rng.normal();
    }
    const a = spec.auctions;
    const k = spec.conflict;
    const quietUntilUs = Math.round(k.secondAtMs * 1000 + 1e6);
    this.endUs = new Float64Array(channels);
    const span = (a.endToS - a.endFromS) * 1e6;
    for (let c = 0; c < channels; c++) {
      this.endUs[c] = Math.round(a.endFromS * 1e6 + this.rng.float() * span);
      this.rng.float(); // the auction's resync phase
      this.nextBid(c === 0 && k.enabled ? quietUntilUs : 0, c);
    }
    if (k.enabled && channels > 0 && this.subscribers[0] >= 2) {
      this.at(Math.round(k.firstAtMs * 1000), SCRIPTED, 0);
      this.at(Math.round(k.secondAtMs * 1000), SCRIPTED, 1);
    }
  }

  get channels(): number {
    return this.pop.channels;
  }

  get users(): number {
    return this.pop.users;
  }

  /** Watcher slots (a user watching an auction): each keeps the last price it saw. */
  get slots(): number {
    return this.pop.slotUser.length;
  }

  /** When the next event is due (it may turn out to be a bid on an ended auction); Infinity: none. */
  peekUs(): number {
    return this.queue.peek();
  }

  /**
   * The next bid, or null when the run has no more. `ended(auction, atUs)` says whether the
   * auction is over at that time; the simulator's bidders do not bid on an ended auction (but
   * still draw their next gap, so the stream stays in step).
   */
  next(ended: (auction: number, atUs: number) => boolean): ScheduledBid | null {
    for (let e = this.queue.pop(); e; e = this.queue.pop()) {
      if (e.kind === SCRIPTED) {
        const slot = this.pop.pairMemberStart[this.pop.channelPairStart[0]] + e.arg;
        return this.bid(e.t, 0, slot, 0, this.spec.conflict.amount, e.arg);
      }
      const c = e.arg;
      this.nextBid(e.t, c);
      if (ended(c, e.t)) continue;
      const first = this.pop.pairMemberStart[this.pop.channelPairStart[c]];
      const last = this.pop.pairMemberEnd[this.pop.channelPairStart[c + 1] - 1];
      const slot = first + this.rng.int(last - first);
      return this.bid(e.t, c, slot, 1 + this.rng.int(this.spec.bids.maxIncrements), NaN, -1);
    }
    return null;
  }

  private bid(
    sentUs: number,
    auction: number,
    slot: number,
    increments: number,
    fixedAmount: number,
    scripted: number,
  ): ScheduledBid {
    const bidder = this.pop.slotUser[slot];
    return { index: this.sent++, sentUs, auction, slot, bidder, increments, fixedAmount, scripted };
  }

  private at(us: number, kind: number, arg: number): void {
    if (us <= this.durationUs) this.queue.push(us, kind, arg);
  }

  /** The auction's next bid: Poisson at a rate that grows with its watchers (the app's rule). */
  private nextBid(now: number, c: number): void {
    const rate = this.spec.bids.perWatcherPerSec * this.subscribers[c];
    if (rate <= 0) return;
    const gap = (-Math.log(1 - this.rng.float()) / rate) * 1e6;
    this.at(Math.max(now + 1, Math.round(now + gap)), BID, c);
  }
}

/** Every bid of the run with the auctions ending as first drawn (for the bid cap and the check). */
export function auctionSchedule(run: RunSpec, pop?: Population): AuctionSchedule {
  const drawer = new BidDrawer(run, pop);
  const bids: ScheduledBid[] = [];
  const ends = drawer.endUs;
  for (let b = drawer.next((c, t) => t >= ends[c]); b; b = drawer.next((c, t) => t >= ends[c]))
    bids.push(b);
  const scripted: [number, number] = [-1, -1];
  for (const b of bids) if (b.scripted >= 0) scripted[b.scripted] = b.index;
  return {
    spec: drawer.spec,
    durationUs: drawer.durationUs,
    bids: bids.length,
    sentUs: Float64Array.from(bids, (b) => b.sentUs),
    auction: Int32Array.from(bids, (b) => b.auction),
    slot: Int32Array.from(bids, (b) => b.slot),
    bidder: Int32Array.from(bids, (b) => b.bidder),
    increments: Int32Array.from(bids, (b) => b.increments),
    fixedAmount: Float64Array.from(bids, (b) => b.fixedAmount),
    scripted,
    endUs: drawer.endUs,
    channels: drawer.channels,
    subscribers: drawer.subscribers,
  };
}

/** The earliest auction end inside the run, µs (Infinity: none ends). */
export function firstEndUs(s: AuctionSchedule): number {
  let first = Infinity;
  for (const e of s.endUs) if (e <= s.durationUs && e < first) first = e;
  return first;
}

/**
 * Whether the schedule is the simulator's: the same number of bids sent, and every write the
 * simulated store accepted came from a bid on the same auction. A mismatch means the app's draws
 * changed (or an auction ended inside the run); the replay then is a schedule drawn from the same
 * rules, not the simulator's own, and the report says so.
 */
export function checkAgainstSimulator(
  s: AuctionSchedule,
  simulatedSent: number,
  writes: readonly { bid: number; auction: number }[],
): boolean {
  if (simulatedSent !== s.bids) return false;
  return writes.every((w) => w.bid < s.bids && s.auction[w.bid] === w.auction);
}
