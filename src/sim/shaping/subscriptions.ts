// Live subscriptions: which candidate subscriptions are active, churn between them, and the servers' broker subscriptions.
import type { Population } from '../population.ts';
import type { Rng } from '../rng.ts';

/**
 * Each user has `candidates` subscription groups (a channel, or for pattern subscriptions a
 * sector of channels) laid out as slots by the population; `active` of them are live at a time. A
 * change unsubscribes one live group and subscribes one idle group. The servers' reverse index
 * (channel → local subscribers) is the population's (channel, server) pairs with a live count;
 * a server holds a broker subscription for a channel (or a pattern) while it has a live subscriber.
 */
export class Subscriptions {
  readonly slotActive: Uint8Array;
  /** Live slots per (channel, server) pair, and per channel. */
  readonly pairActive: Int32Array;
  readonly channelActive: Int32Array;
  /** Broker subscriptions per server (channels, or patterns in pattern mode). */
  readonly brokerSubs: Int32Array;
  private readonly slotPair: Int32Array;
  private readonly userSlotStart: Int32Array;
  private readonly userSlots: Int32Array;
  /** Pattern mode: live users per (server, sector). */
  private readonly sectorLive: Int32Array;
  private readonly sectors: number;
  changes = 0;
  brokerOps = 0;
  indexOps = 0;
  activeCount = 0;

  constructor(
    private readonly pop: Population,
    readonly activePerUser: number,
    readonly pattern: boolean,
    readonly sectorSize: number,
  ) {
    const slots = pop.slotUser.length;
    this.slotActive = new Uint8Array(slots);
    this.slotPair = new Int32Array(slots);
    const pairs = pop.pairServer.length;
    this.pairActive = new Int32Array(pairs);
    this.channelActive = new Int32Array(pop.channels);
    this.brokerSubs = new Int32Array(pop.servers);
    this.sectors = pattern ? Math.ceil(pop.channels / sectorSize) : 0;
    this.sectorLive = new Int32Array(pattern ? pop.servers * this.sectors : 0);
    for (let q = 0; q < pairs; q++)
      for (let i = pop.pairMemberStart[q]; i < pop.pairMemberEnd[q]; i++) this.slotPair[i] = q;
    // user → slots (CSR), for changes.
    this.userSlotStart = new Int32Array(pop.users + 1);
    for (let i = 0; i < slots; i++) this.userSlotStart[pop.slotUser[i] + 1]++;
    for (let u = 0; u < pop.users; u++) this.userSlotStart[u + 1] += this.userSlotStart[u];
    const fill = this.userSlotStart.slice(0, pop.users);
    this.userSlots = new Int32Array(slots);
    for (let i = 0; i < slots; i++) this.userSlots[fill[pop.slotUser[i]]++] = i;
    for (let i = 0; i < slots; i++)
      if (pop.slotGroup[i] < activePerUser) this.setActive(i, true, this.pattern ? -1 : 0);
    if (pattern) this.countPatterns();
    this.brokerOps = 0;
    this.indexOps = 0;
  }

  private countPatterns(): void {
    const p = this.pop;
    this.sectorLive.fill(0);
    this.brokerSubs.fill(0);
    for (let u = 0; u < p.users; u++) {
      const s = p.userServer[u];
      if (s < 0) continue;
      for (let g = 0; g < this.activePerUser; g++) {
        const sector = this.sectorOf(u, g);
        if (sector >= 0 && this.sectorLive[s * this.sectors + sector]++ === 0) this.brokerSubs[s]++;
      }
    }
  }

  private sectorOf(u: number, g: number): number {
    for (let k = this.userSlotStart[u]; k < this.userSlotStart[u + 1]; k++) {
      const i = this.userSlots[k];
      if (this.pop.slotGroup[i] === g) return Math.floor(this.pop.slotChannel[i] / this.sectorSize);
    }
    return -1;
  }

  /** The broker subscriptions in force, summed over servers. */
  get brokerTotal(): number {
    let n = 0;
    for (let s = 0; s < this.brokerSubs.length; s++) n += this.brokerSubs[s];
    return n;
  }

  private setActive(slot: number, on: boolean, countBroker: number): void {
    if ((this.slotActive[slot] === 1) === on) return;
    const q = this.slotPair[slot];
    const c = this.pop.slotChannel[slot];
    const d = on ? 1 : -1;
    this.slotActive[slot] = on ? 1 : 0;
    this.pairActive[q] += d;
    this.channelActive[c] += d;
    this.activeCount += d;
    if (countBroker < 0) return;
    const s = this.pop.pairServer[q];
    if (on && this.pairActive[q] === 1) {
      this.brokerSubs[s]++;
      this.brokerOps++;
    } else if (!on && this.pairActive[q] === 0) {
      this.brokerSubs[s]--;
      this.brokerOps++;
    }
  }

  /**
   * One change for user u: a live group goes idle and an idle one goes live. Calls `touched` for
   * every slot whose state changed; returns the server's index operations (2 per group changed,
   * one unsubscribe and one subscribe, per slot in exact mode, per pattern in pattern mode).
   */
  change(u: number, rng: Rng, touched: (slot: number, on: boolean) => void): number {
    const s = this.pop.userServer[u];
    if (s < 0) return 0;
    const groups = this.groupsOf(u);
    if (groups <= this.activePerUser) return 0;
    const live = new Uint8Array(groups);
    for (let k = this.userSlotStart[u]; k < this.userSlotStart[u + 1]; k++) {
      const i = this.userSlots[k];
      if (this.slotActive[i]) live[this.pop.slotGroup[i]] = 1;
    }
    const off = this.pickGroup(live, 1, rng);
    const on = this.pickGroup(live, 0, rng);
    if (off < 0 || on < 0) return 0;
    let ops = 0;
    for (let k = this.userSlotStart[u]; k < this.userSlotStart[u + 1]; k++) {
      const i = this.userSlots[k];
      const g = this.pop.slotGroup[i];
      if (g !== off && g !== on) continue;
      this.setActive(i, g === on, this.pattern ? -1 : 0);
      touched(i, g === on);
      if (!this.pattern) ops++;
    }
    if (this.pattern) {
      ops = 2;
      this.patternMove(s, this.sectorOfGroup(u, off), -1);
      this.patternMove(s, this.sectorOfGroup(u, on), 1);
    }
    this.changes++;
    this.indexOps += ops;
    return ops;
  }

  private sectorOfGroup(u: number, g: number): number {
    return this.sectorOf(u, g);
  }

  private patternMove(s: number, sector: number, d: number): void {
    const k = s * this.sectors + sector;
    const before = this.sectorLive[k];
    this.sectorLive[k] += d;
    if (before === 0 && d > 0) {
      this.brokerSubs[s]++;
      this.brokerOps++;
    } else if (this.sectorLive[k] === 0 && d < 0) {
      this.brokerSubs[s]--;
      this.brokerOps++;
    }
  }

  private groupsOf(u: number): number {
    let g = 0;
    for (let k = this.userSlotStart[u]; k < this.userSlotStart[u + 1]; k++)
      g = Math.max(g, this.pop.slotGroup[this.userSlots[k]] + 1);
    return g;
  }

  /** A random group whose live flag equals `want`. */
  private pickGroup(live: Uint8Array, want: number, rng: Rng): number {
    let n = 0;
    for (let g = 0; g < live.length; g++) if (live[g] === want) n++;
    if (n === 0) return -1;
    let k = rng.int(n);
    for (let g = 0; g < live.length; g++) if (live[g] === want && k-- === 0) return g;
    return -1;
  }

  /** Typed-array bytes (simulator memory). */
  get byteLength(): number {
    return (
      this.slotActive.byteLength +
      this.slotPair.byteLength +
      this.pairActive.byteLength +
      this.channelActive.byteLength +
      this.userSlotStart.byteLength +
      this.userSlots.byteLength +
      this.sectorLive.byteLength
    );
  }
}
