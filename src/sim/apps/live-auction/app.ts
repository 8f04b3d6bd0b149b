// The live auction (the guide's Example 10) on the broadcast fabric: the bid path, three concurrency controls, soft close, the countdown.
import {
  OUT_ACCEPTED,
  OUT_ENDED,
  OUT_GAVE_UP,
  OUT_RATE_LIMITED,
  OUT_TOO_LOW,
  outcomeName,
} from './outcomes.ts';
import { LatencyHistogram } from '../../histogram.ts';
import type { Rng } from '../../rng.ts';
import type { AppHost, AppResult, CaseApp, FabricSummary } from '../app.ts';
import { auctionFigures } from './figures.ts';
import type { LiveAuctionSpec } from './schema.ts';
import { timerErrorUs, type TimerAnchor } from './timer.ts';

// App event kinds, in the low 3 bits of the event's argument; the rest is an auction.
const EV_BID = 0; // a new bid on the auction is sent (its own Poisson stream)
const EV_STEP = 1; // word1: bid — the bid's next step (it reaches the gateway, the store, …)
const EV_RESYNC = 2; // the auction re-sends its countdown
const EV_END = 3; // the auction's end as it stood when scheduled (soft close may have moved it)
const EV_SCRIPTED = 4; // word1: 0 or 1 — one of the guide's two simultaneous bids
const KIND_BITS = 3;

// A bid's steps (`bidStep`): what the next EV_STEP does.
const STEP_GATEWAY = 0; // at the gateway: auth, rate limit, then the service validates
const STEP_READ = 1; // naive / optimistic: the read (GET, or WATCH + GET) reaches the store
const STEP_WRITE = 2; // naive: SET; optimistic: MULTI/SET/EXEC; atomic: the script
const STEP_REPLY = 3; // the answer is back at the bidder

/** Messages the app publishes: what each one says (indexed by the fabric's message id). */
interface Sent {
  amount: number;
  endUs: number;
}

/** Per auction (channel): the store's state and the auction's clock. */
class Auctions {
  readonly current: Float64Array;
  readonly leader: Int32Array;
  /** Bumped on every write: what a WATCH compares. */
  readonly version: Int32Array;
  readonly endUs: Float64Array;
  readonly ended: Uint8Array;
  /** The highest amount the store ever accepted for the auction (the checker's reference). */
  readonly bestAccepted: Float64Array;
  /** Who first reached `bestAccepted`: the rightful leader. */
  readonly bestBidder: Int32Array;
  readonly accepted: Int32Array;

  constructor(n: number, start: number) {
    this.current = new Float64Array(n).fill(start);
    this.leader = new Int32Array(n).fill(-1);
    this.version = new Int32Array(n);
    this.endUs = new Float64Array(n);
    this.ended = new Uint8Array(n);
    this.bestAccepted = new Float64Array(n);
    this.bestBidder = new Int32Array(n).fill(-1);
    this.accepted = new Int32Array(n);
  }
}

/** Growable per-bid state. */
class Bids {
  n = 0;
  auction = new Int32Array(1024);
  bidder = new Int32Array(1024);
  amount = new Float64Array(1024);
  sentUs = new Float64Array(1024);
  /** When the bid reached the gateway: server-side processing runs from here to the answer. */
  arrivedUs = new Float64Array(1024);
  step = new Uint8Array(1024);
  outcome = new Uint8Array(1024);
  readValue = new Float64Array(1024);
  readVersion = new Int32Array(1024);
  tries = new Int32Array(1024);

  add(auction: number, bidder: number, amount: number, sentUs: number): number {
    if (this.n === this.auction.length) this.grow();
    const b = this.n++;
    this.auction[b] = auction;
    this.bidder[b] = bidder;
    this.amount[b] = amount;
    this.sentUs[b] = sentUs;
    this.step[b] = STEP_GATEWAY;
    this.outcome[b] = 0;
    this.tries[b] = 0;
    return b;
  }

  private grow(): void {
    const n = this.auction.length * 2;
    const g = <T extends Int32Array | Float64Array | Uint8Array>(a: T, make: (n: number) => T) => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.auction = g(this.auction, (k) => new Int32Array(k));
    this.bidder = g(this.bidder, (k) => new Int32Array(k));
    this.amount = g(this.amount, (k) => new Float64Array(k));
    this.sentUs = g(this.sentUs, (k) => new Float64Array(k));
    this.arrivedUs = g(this.arrivedUs, (k) => new Float64Array(k));
    this.step = g(this.step, (k) => new Uint8Array(k));
    this.outcome = g(this.outcome, (k) => new Uint8Array(k));
    this.readValue = g(this.readValue, (k) => new Float64Array(k));
    this.readVersion = g(this.readVersion, (k) => new Int32Array(k));
    this.tries = g(this.tries, (k) => new Int32Array(k));
  }
}

/** One accepted write, for the checker: which bid, the amount, and what it replaced. */
export interface AcceptedWrite {
  bid: number;
  auction: number;
  amount: number;
  replaced: number;
  atUs: number;
}

export class LiveAuctionApp implements CaseApp {
  readonly source = { label: 'Bidding service', role: 'gateway · store' };
  private host!: AppHost;
  private rng!: Rng;
  private auctions!: Auctions;
  private readonly bids = new Bids();
  private readonly spec: LiveAuctionSpec;
  private readonly sent: Sent[] = [];
  private storeFreeUs = 0;
  /** Per slot (a watcher of one auction): what it last saw, for its next bid and its countdown. */
  private seenAmount!: Float64Array;
  /**
   * The latest price on its way to the watcher and when it arrives: a delivery is told to the app
   * when it is decided, ~a hop-1 trip before it is on the screen, so the bidder sees it only then.
   */
  private nextAmount!: Float64Array;
  private nextArrivalUs!: Float64Array;
  private anchorSentUs!: Float64Array;
  private anchorArrivalUs!: Float64Array;
  private anchorEndUs!: Float64Array;
  /** Per user: clock offset (µs) and drift (fraction), and the gateway's token bucket. */
  private clockOffsetUs!: Float64Array;
  private clockDrift!: Float64Array;
  private tokens!: Float64Array;
  private tokensAtUs!: Float64Array;

  private readonly bidLatency = new LatencyHistogram();
  /** Gateway arrival → answer leaving: the bid path's own time, without the bidder's network. */
  private readonly processing = new LatencyHistogram();
  private readonly notifyLatency = new LatencyHistogram();
  private readonly timerError = new LatencyHistogram();
  private timerLate = 0;
  private timerEarly = 0;
  private timerWithin100 = 0;
  private noTimer = 0;
  private lostUpdates = 0;
  private retries = 0;
  private gaveUp = 0;
  private execAttempts = 0;
  private execFailures = 0;
  private rejected = { tooLow: 0, ended: 0, rateLimited: 0 };
  private extensions = 0;
  private notified = 0;
  private endedAuctions = 0;
  private scripted: number[] = [-1, -1];
  readonly writes: AcceptedWrite[] = [];

  constructor(spec: LiveAuctionSpec) {
    this.spec = spec;
  }

  start(host: AppHost): void {
    this.host = host;
    this.rng = host.rng;
    const p = host.pop;
    const a = this.spec.auctions;
    this.auctions = new Auctions(p.channels, a.startPrice);
    const slots = p.slotUser.length;
    this.seenAmount = new Float64Array(slots).fill(a.startPrice);
    this.nextAmount = new Float64Array(slots).fill(a.startPrice);
    this.nextArrivalUs = new Float64Array(slots);
    this.anchorSentUs = new Float64Array(slots).fill(-1);
    this.anchorArrivalUs = new Float64Array(slots);
    this.anchorEndUs = new Float64Array(slots);
    const t = this.spec.timer;
    this.clockOffsetUs = new Float64Array(p.users);
    this.clockDrift = new Float64Array(p.users);
    for (let u = 0; u < p.users; u++) {
      this.clockOffsetUs[u] = this.rng.normal() * t.clockOffsetSdMs * 1000;
      this.clockDrift[u] = this.rng.normal() * t.clockDriftSdPpm * 1e-6;
    }
    this.tokens = new Float64Array(p.users).fill(this.spec.bids.rateLimitBurst);
    this.tokensAtUs = new Float64Array(p.users);
    const span = (a.endToS - a.endFromS) * 1e6;
    for (let c = 0; c < p.channels; c++) {
      const end = Math.round(a.endFromS * 1e6 + this.rng.float() * span);
      this.auctions.endUs[c] = end;
      this.at(end, EV_END, c);
      this.at(Math.round(this.rng.float() * t.resyncS * 1e6), EV_RESYNC, c);
      this.nextBid(c === 0 && this.spec.conflict.enabled ? this.quietUntilUs() : 0, c);
    }
    const k = this.spec.conflict;
    if (k.enabled && p.channels > 0 && host.subscribers(0) >= 2) {
      this.at(Math.round(k.firstAtMs * 1000), EV_SCRIPTED, 0, 0);
      this.at(Math.round(k.secondAtMs * 1000), EV_SCRIPTED, 0, 1);
    }
  }

  /** Auction 0 takes no other bid until a second after the scripted pair. */
  private quietUntilUs(): number {
    return Math.round(this.spec.conflict.secondAtMs * 1000 + 1e6);
  }

  private at(us: number, kind: number, auction: number, word1 = 0): void {
    if (us <= this.host.durationUs) this.host.schedule(us, (auction << KIND_BITS) | kind, word1);
  }

  handle(now: number, arg: number, word1: number): void {
    const kind = arg & ((1 << KIND_BITS) - 1);
    const auction = arg >>> KIND_BITS;
    switch (kind) {
      case EV_BID:
        return this.onBid(now, auction);
      case EV_STEP:
        return this.onStep(now, word1);
      case EV_RESYNC:
        return this.onResync(now, auction);
      case EV_END:
        return this.onEnd(now, auction);
      case EV_SCRIPTED:
        return this.onScripted(now, word1);
    }
  }

  // ---- Bidders.

  /** The auction's next bid: Poisson at a rate that grows with its watchers. */
  private nextBid(now: number, auction: number): void {
    const rate = this.spec.bids.perWatcherPerSec * this.host.subscribers(auction);
    if (rate <= 0) return;
    const gap = (-Math.log(1 - this.rng.float()) / rate) * 1e6;
    this.at(Math.max(now + 1, Math.round(now + gap)), EV_BID, auction);
  }

  /** The highest price on the watcher's screen at `now`. */
  private shown(slot: number, now: number): number {
    const seen = this.seenAmount[slot];
    return this.nextArrivalUs[slot] <= now ? Math.max(seen, this.nextAmount[slot]) : seen;
  }

  /** A watcher of the auction (a slot in its range), at random. */
  private pickSlot(auction: number): number {
    const p = this.host.pop;
    const first = p.pairMemberStart[p.channelPairStart[auction]];
    const lastPair = p.channelPairStart[auction + 1] - 1;
    const end = p.pairMemberEnd[lastPair];
    return first + this.rng.int(end - first);
  }

  private onBid(now: number, auction: number): void {
    this.nextBid(now, auction);
    if (this.auctions.ended[auction]) return;
    const slot = this.pickSlot(auction);
    const inc = this.spec.auctions.minIncrement;
    const amount = this.shown(slot, now) + inc * (1 + this.rng.int(this.spec.bids.maxIncrements));
    this.send(now, auction, this.host.pop.slotUser[slot], amount);
  }

  private onScripted(now: number, which: number): void {
    const slot = this.pickSlotNth(0, which);
    const b = this.send(now, 0, this.host.pop.slotUser[slot], this.spec.conflict.amount);
    this.scripted[which] = b;
  }

  /** The n-th watcher of the auction (the scripted bids come from two different watchers). */
  private pickSlotNth(auction: number, n: number): number {
    const p = this.host.pop;
    return p.pairMemberStart[p.channelPairStart[auction]] + n;
  }

  /** The bidder's POST /bid leaves its device now. */
  private send(now: number, auction: number, bidder: number, amount: number): number {
    const b = this.bids.add(auction, bidder, amount, now);
    this.at(now + this.oneWayUs(), EV_STEP, 0, b);
    return b;
  }

  private oneWayUs(): number {
    return Math.round(this.host.userLatencyMs() * 1000);
  }

  // ---- The bid path.

  private onStep(now: number, b: number): void {
    const bids = this.bids;
    switch (bids.step[b]) {
      case STEP_GATEWAY:
        return this.atGateway(now, b);
      case STEP_READ:
        return this.atStoreRead(now, b);
      case STEP_WRITE:
        return this.atStoreWrite(now, b);
      case STEP_REPLY:
        return this.atBidder(now, b);
    }
  }

  private atGateway(now: number, b: number): void {
    const bids = this.bids;
    const path = this.spec.bidPath;
    const u = bids.bidder[b];
    bids.arrivedUs[b] = now;
    // Token bucket: refill since the bidder's last bid, spend one.
    const lim = this.spec.bids;
    const refill = ((now - this.tokensAtUs[u]) / 1e6) * lim.rateLimitPerSec;
    this.tokens[u] = Math.min(lim.rateLimitBurst, this.tokens[u] + refill);
    this.tokensAtUs[u] = now;
    const ready = now + path.gatewayUs;
    if (this.tokens[u] < 1) return this.reply(ready, b, OUT_RATE_LIMITED);
    this.tokens[u] -= 1;
    const atStore = ready + path.serviceUs + path.storeRttUs / 2;
    bids.step[b] = this.spec.control === 'atomic' ? STEP_WRITE : STEP_READ;
    this.at(Math.round(atStore), EV_STEP, 0, b);
  }

  /** The store runs one command at a time, in arrival order: when this one finishes. */
  private storeRun(now: number): number {
    const start = now > this.storeFreeUs ? now : this.storeFreeUs;
    this.storeFreeUs = start + this.spec.bidPath.storeCommandUs;
    return this.storeFreeUs;
  }

  private atStoreRead(now: number, b: number): void {
    const bids = this.bids;
    const a = bids.auction[b];
    const done = this.storeRun(now);
    bids.readValue[b] = this.auctions.current[a];
    bids.readVersion[b] = this.auctions.version[a];
    const path = this.spec.bidPath;
    // Back at the service: it validates against what it read, then decides and writes.
    const back = done + path.storeRttUs / 2;
    if (!this.beats(bids.amount[b], bids.readValue[b], this.auctions.leader[a] >= 0))
      return this.reply(back + path.serviceUs, b, OUT_TOO_LOW);
    bids.step[b] = STEP_WRITE;
    this.at(Math.round(back + path.decideUs + path.storeRttUs / 2), EV_STEP, 0, b);
  }

  private beats(amount: number, current: number, hasLeader: boolean): boolean {
    const inc = this.spec.auctions.minIncrement;
    return hasLeader ? amount >= current + inc : amount >= current;
  }

  private atStoreWrite(now: number, b: number): void {
    const bids = this.bids;
    const st = this.auctions;
    const a = bids.auction[b];
    const done = this.storeRun(now);
    const back = done + this.spec.bidPath.storeRttUs / 2;
    if (done > st.endUs[a] || st.ended[a]) return this.reply(back, b, OUT_ENDED);
    const control = this.spec.control;
    if (control === 'atomic') {
      // The script reads, compares and sets in one command: nothing can come between.
      if (!this.beats(bids.amount[b], st.current[a], st.leader[a] >= 0))
        return this.reply(back, b, OUT_TOO_LOW);
    } else if (control === 'optimistic') {
      this.execAttempts++;
      if (st.version[a] !== bids.readVersion[b]) {
        // EXEC fails: the key changed since WATCH. Retry from the read, or give up.
        this.execFailures++;
        if (bids.tries[b] >= this.spec.bidPath.maxRetries) {
          this.gaveUp++;
          return this.reply(back, b, OUT_GAVE_UP);
        }
        bids.tries[b]++;
        this.retries++;
        bids.step[b] = STEP_READ;
        const path = this.spec.bidPath;
        this.at(Math.round(back + path.retryBackoffUs + path.storeRttUs / 2), EV_STEP, 0, b);
        return;
      }
    }
    // naive: a blind SET of what the service decided on what it read earlier. If a bid was
    // accepted in between, this write replaces it without beating it: a lost update.
    const replaced = st.current[a];
    const previousLeader = st.leader[a];
    if (!this.beats(bids.amount[b], replaced, previousLeader >= 0)) this.lostUpdates++;
    st.current[a] = bids.amount[b];
    st.leader[a] = bids.bidder[b];
    st.version[a]++;
    st.accepted[a]++;
    if (bids.amount[b] > st.bestAccepted[a]) {
      st.bestAccepted[a] = bids.amount[b];
      st.bestBidder[a] = bids.bidder[b];
    }
    this.writes.push({ bid: b, auction: a, amount: bids.amount[b], replaced, atUs: done });
    // Soft close: a late bid moves the end.
    const close = this.spec.softClose;
    if (close.extendS > 0 && st.endUs[a] - done < close.windowS * 1e6) {
      const end = Math.round(done + close.extendS * 1e6);
      if (end > st.endUs[a]) {
        st.endUs[a] = end;
        this.extensions++;
        this.at(end, EV_END, a);
      }
    }
    // The event publisher: BID_UPDATE to every watcher; the outbid hear from notifications.
    this.publish(Math.round(done), a);
    if (previousLeader >= 0 && previousLeader !== bids.bidder[b]) {
      this.notified++;
      this.notifyLatency.record(this.spec.bidPath.notifyUs + this.oneWayUs());
    }
    this.reply(back, b, OUT_ACCEPTED);
  }

  private reply(atUs: number, b: number, outcome: number): void {
    const bids = this.bids;
    bids.outcome[b] = outcome;
    bids.step[b] = STEP_REPLY;
    this.processing.record(atUs - bids.arrivedUs[b]);
    this.at(Math.round(atUs + this.oneWayUs()), EV_STEP, 0, b);
    if (outcome === OUT_TOO_LOW) this.rejected.tooLow++;
    else if (outcome === OUT_ENDED) this.rejected.ended++;
    else if (outcome === OUT_RATE_LIMITED) this.rejected.rateLimited++;
  }

  private atBidder(now: number, b: number): void {
    this.bidLatency.record(now - this.bids.sentUs[b]);
  }

  // ---- Broadcast and the countdown.

  private publish(now: number, auction: number): void {
    const id = this.host.publish(now, auction);
    this.sent[id] = { amount: this.auctions.current[auction], endUs: this.auctions.endUs[auction] };
  }

  private onResync(now: number, auction: number): void {
    if (this.auctions.ended[auction]) return;
    this.publish(now, auction);
    this.at(now + Math.round(this.spec.timer.resyncS * 1e6), EV_RESYNC, auction);
  }

  delivered(slot: number, _user: number, message: number, arrivalUs: number): void {
    const m = this.sent[message];
    if (!m) return;
    const created = this.host.msgCreatedUs(message);
    // Only what arrives before the auction ends can set the watcher's countdown.
    if (arrivalUs >= m.endUs) return;
    // The price on its way before this one has arrived by the time this one does (one TCP stream
    // per watcher keeps them in order): it joins what the watcher has seen.
    this.seenAmount[slot] = Math.max(this.seenAmount[slot], this.nextAmount[slot]);
    if (m.amount > this.nextAmount[slot]) {
      this.nextAmount[slot] = m.amount;
      this.nextArrivalUs[slot] = arrivalUs;
    }
    if (created >= this.anchorSentUs[slot]) {
      this.anchorSentUs[slot] = created;
      this.anchorArrivalUs[slot] = arrivalUs;
      this.anchorEndUs[slot] = m.endUs;
    }
  }

  /**
   * The auction's end (if soft close did not move it since): every watcher's countdown hits
   * zero at some true time; the error is how far that is from the real end.
   */
  private onEnd(now: number, auction: number): void {
    const st = this.auctions;
    if (st.ended[auction] || now < st.endUs[auction]) return;
    st.ended[auction] = 1;
    this.endedAuctions++;
    const p = this.host.pop;
    const method = this.spec.timer.method;
    for (let q = p.channelPairStart[auction]; q < p.channelPairStart[auction + 1]; q++)
      for (let slot = p.pairMemberStart[q]; slot < p.pairMemberEnd[q]; slot++) {
        if (this.anchorSentUs[slot] < 0 || this.anchorArrivalUs[slot] > now) {
          this.noTimer++;
          continue;
        }
        const u = p.slotUser[slot];
        const anchor: TimerAnchor = {
          sentUs: this.anchorSentUs[slot],
          arrivalUs: this.anchorArrivalUs[slot],
          endUs: this.anchorEndUs[slot],
        };
        const err = timerErrorUs(
          method,
          anchor,
          st.endUs[auction],
          this.clockOffsetUs[u],
          this.clockDrift[u],
        );
        this.timerError.record(Math.round(Math.abs(err)));
        if (err > 0) this.timerLate++;
        else if (err < 0) this.timerEarly++;
        if (Math.abs(err) <= 100_000) this.timerWithin100++;
      }
  }

  // ---- What the run measured.

  result(fabric: FabricSummary): AppResult {
    const stats = this.stats();
    return { ...stats, guideFigures: auctionFigures(this.spec, stats, fabric) };
  }

  stats() {
    const bids = this.bids;
    let accepted = 0;
    let rejected = 0;
    let pending = 0;
    for (let b = 0; b < bids.n; b++) {
      const o = bids.outcome[b];
      if (o === OUT_ACCEPTED) accepted++;
      else if (o === 0) pending++;
      else rejected++;
    }
    const timed = this.timerError.count;
    const summary = (h: LatencyHistogram) => {
      const s = h.summary();
      return { p50: s.p50, p99: s.p99, max: s.max, count: s.count };
    };
    const scripted = this.scripted.map((b) =>
      b < 0 ? 'not sent' : outcomeName(bids.outcome[b] as number, 'no answer by the end'),
    );
    const stats = {
      control: this.spec.control,
      bids: {
        sent: bids.n,
        accepted,
        rejected,
        pending,
        tooLow: this.rejected.tooLow,
        ended: this.rejected.ended,
        rateLimited: this.rejected.rateLimited,
        lostUpdates: this.lostUpdates,
        retries: this.retries,
        gaveUp: this.gaveUp,
        execAttempts: this.execAttempts,
        execFailures: this.execFailures,
        latencyMs: summary(this.bidLatency),
        processingMs: summary(this.processing),
      },
      timerErrorMs: {
        ...summary(this.timerError),
        method: this.spec.timer.method,
        late: this.timerLate,
        early: this.timerEarly,
        within100Ms: timed > 0 ? this.timerWithin100 / timed : null,
        noTimer: this.noTimer,
      },
      auctions: {
        count: this.host.pop.channels,
        ended: this.endedAuctions,
        extended: this.extensions,
        maxWatchers: maxSubscribers(this.host),
        watchers: this.host.pop.slotUser.length,
        wrongWinner: this.wrongWinners(),
      },
      outbid: { notified: this.notified, latencyMs: summary(this.notifyLatency) },
      conflict: this.spec.conflict.enabled ? { first: scripted[0], second: scripted[1] } : null,
    };
    return stats;
  }

  /**
   * Auctions whose standing bid is not the highest the store ever accepted for them, or whose
   * leader is not the bidder who first reached it.
   */
  private wrongWinners(): number {
    const st = this.auctions;
    let n = 0;
    for (let a = 0; a < st.current.length; a++)
      if (
        st.accepted[a] > 0 &&
        (st.current[a] < st.bestAccepted[a] || st.leader[a] !== st.bestBidder[a])
      )
        n++;
    return n;
  }

  dispose(): void {
    this.bidLatency.destroy();
    this.processing.destroy();
    this.notifyLatency.destroy();
    this.timerError.destroy();
  }
}

function maxSubscribers(host: AppHost): number {
  let best = 0;
  for (let c = 0; c < host.pop.channels; c++) best = Math.max(best, host.subscribers(c));
  return best;
}

export type AuctionStats = ReturnType<LiveAuctionApp['stats']>;
