// Users, their connections and subscriptions, stored as typed arrays (no object per user).
import type { Rng } from './rng.ts';

export type Balancer = 'round-robin' | 'random';

/**
 * The connected population. A subscription is a (user, channel) slot. Slots are numbered in
 * (channel, server) order, so a server's fan-out for one channel is one contiguous range of slots
 * and the broker's fan-out for one channel is one contiguous range of pairs. Users are renumbered
 * in the order their first slot appears, so a fan-out batch touches neighbouring users: at a
 * million users, random access to per-user state costs a cache miss per delivery (it made the
 * two-hop-1m run 2.5x slower before this ordering).
 */
export interface Population {
  users: number;
  servers: number;
  channels: number;
  /** Server of each user, or -1 if every server refused the connection. */
  userServer: Int32Array;
  connections: Int32Array;
  rejected: number;
  /** Per slot, in (channel, server) order: its user and channel. */
  slotUser: Int32Array;
  slotChannel: Int32Array;
  /**
   * Per slot: which of its user's candidate subscriptions it belongs to (0 … candidates − 1; a
   * pattern subscription's slots share one). The first `subscriptionsPerUser` groups start active.
   */
  slotGroup: Uint8Array;
  /** Pairs: the servers holding subscribers of each channel, with their range of slots. */
  channelPairStart: Int32Array;
  pairServer: Int32Array;
  pairMemberStart: Int32Array;
  pairMemberEnd: Int32Array;
}

export interface PopulationSpec {
  users: number;
  servers: number;
  channels: number;
  subscriptionsPerUser: number;
  maxConnections: number;
  balancer: Balancer;
  /** Candidate subscriptions per user (≥ subscriptionsPerUser): the watchlist churn picks from. */
  candidatesPerUser?: number;
  /** Pattern subscriptions: each candidate is a sector of this many consecutive channels. */
  sectorSize?: number;
  /**
   * Skewed interest: channel c (0-based) is picked with weight 1 / (c + 1)^s (Zipf), so channel 0
   * is the hot auction, stock or game. Absent or 0: uniform, and the draws are exactly the
   * uniform ones.
   */
  zipfExponent?: number;
}

/** Cumulative Zipf weights over `n` channels, normalised to end at 1. */
function zipfCumulative(n: number, exponent: number): Float64Array {
  const cum = new Float64Array(n);
  let total = 0;
  for (let c = 0; c < n; c++) {
    total += Math.exp(-exponent * Math.log(c + 1));
    cum[c] = total;
  }
  for (let c = 0; c < n; c++) cum[c] /= total;
  return cum;
}

/** The first index whose cumulative weight exceeds x (binary search). */
function pickCumulative(cum: Float64Array, x: number): number {
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Connects every user through the load balancer, in user order, at time zero. */
function connect(
  spec: PopulationSpec,
  rng: Rng,
): { userServer: Int32Array; connections: Int32Array; rejected: number } {
  const { users, servers, maxConnections } = spec;
  const userServer = new Int32Array(users);
  const connections = new Int32Array(servers);
  let next = 0;
  let rejected = 0;
  for (let u = 0; u < users; u++) {
    const first = spec.balancer === 'random' ? rng.int(servers) : next;
    next = (next + 1) % servers;
    let s = first;
    let tries = 0;
    while (connections[s] >= maxConnections && tries < servers) {
      s = (s + 1) % servers;
      tries++;
    }
    if (tries === servers) {
      userServer[u] = -1;
      rejected++;
    } else {
      userServer[u] = s;
      connections[s]++;
    }
  }
  return { userServer, connections, rejected };
}

/** Sectors of a pattern subscription: channel c is in sector ⌊c / sectorSize⌋. */
export function sectorCount(channels: number, sectorSize: number): number {
  return Math.ceil(channels / sectorSize);
}

/**
 * Draws each connected user's distinct candidate channels (or sectors, for pattern
 * subscriptions) uniformly at random; the first `subscriptionsPerUser` are the active ones. With
 * one candidate per subscription and no patterns this draws exactly what it always drew.
 */
function subscribe(
  spec: PopulationSpec,
  userServer: Int32Array,
  rng: Rng,
): { slotUser: Int32Array; slotChannel: Int32Array; slotGroup: Uint8Array } {
  const sector = spec.sectorSize ?? 0;
  const units = sector > 0 ? sectorCount(spec.channels, sector) : spec.channels;
  const k = Math.min(Math.max(spec.subscriptionsPerUser, spec.candidatesPerUser ?? 0), units);
  let connected = 0;
  for (let u = 0; u < spec.users; u++) if (userServer[u] >= 0) connected++;
  const picks = new Int32Array(k);
  const zipf = spec.zipfExponent ?? 0;
  const cum = zipf > 0 && sector === 0 ? zipfCumulative(units, zipf) : null;
  let total = 0;
  const perUser: number[] = [];
  const drawn = new Int32Array(connected * k);
  let d = 0;
  for (let u = 0; u < spec.users; u++) {
    if (userServer[u] < 0) continue;
    let n = 0;
    while (n < k) {
      const c = cum ? pickCumulative(cum, rng.float()) : rng.int(units);
      let taken = false;
      for (let j = 0; j < n; j++) if (picks[j] === c) taken = true;
      if (taken) continue;
      picks[n++] = c;
    }
    let slots = 0;
    for (let j = 0; j < k; j++) {
      drawn[d++] = picks[j];
      slots += sector > 0 ? Math.min(sector, spec.channels - picks[j] * sector) : 1;
    }
    perUser.push(slots);
    total += slots;
  }
  const slotUser = new Int32Array(total);
  const slotChannel = new Int32Array(total);
  const slotGroup = new Uint8Array(total);
  let slot = 0;
  d = 0;
  for (let u = 0; u < spec.users; u++) {
    if (userServer[u] < 0) continue;
    for (let j = 0; j < k; j++) {
      const unit = drawn[d++];
      const from = sector > 0 ? unit * sector : unit;
      const to = sector > 0 ? Math.min(spec.channels, from + sector) : unit + 1;
      for (let c = from; c < to; c++) {
        slotUser[slot] = u;
        slotChannel[slot] = c;
        slotGroup[slot] = j;
        slot++;
      }
    }
  }
  return { slotUser, slotChannel, slotGroup };
}

/** Stable counting sort of `ids` by `key(id)` in [0, range). */
function countingSort(ids: Int32Array, range: number, key: (id: number) => number): Int32Array {
  const counts = new Int32Array(range + 1);
  for (let i = 0; i < ids.length; i++) counts[key(ids[i]) + 1]++;
  for (let r = 0; r < range; r++) counts[r + 1] += counts[r];
  const out = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) out[counts[key(ids[i])]++] = ids[i];
  return out;
}

export function buildPopulation(spec: PopulationSpec, rng: Rng): Population {
  const connected = connect(spec, rng.fork('balancer'));
  const drawn = subscribe(spec, connected.userServer, rng.fork('subscriptions'));
  const ids = new Int32Array(drawn.slotUser.length);
  for (let i = 0; i < ids.length; i++) ids[i] = i;
  const byServer = countingSort(
    ids,
    spec.servers,
    (id) => connected.userServer[drawn.slotUser[id]],
  );
  const order = countingSort(byServer, spec.channels, (id) => drawn.slotChannel[id]);

  // Renumber users by first appearance in slot order; refused users go last.
  const newId = new Int32Array(spec.users).fill(-1);
  let next = 0;
  for (let i = 0; i < order.length; i++) {
    const u = drawn.slotUser[order[i]];
    if (newId[u] < 0) newId[u] = next++;
  }
  for (let u = 0; u < spec.users; u++) if (newId[u] < 0) newId[u] = next++;
  const userServer = new Int32Array(spec.users);
  for (let u = 0; u < spec.users; u++) userServer[newId[u]] = connected.userServer[u];
  const slotUser = new Int32Array(order.length);
  const slotChannel = new Int32Array(order.length);
  const slotGroup = new Uint8Array(order.length);
  for (let i = 0; i < order.length; i++) {
    slotUser[i] = newId[drawn.slotUser[order[i]]];
    slotChannel[i] = drawn.slotChannel[order[i]];
    slotGroup[i] = drawn.slotGroup[order[i]];
  }

  const channelPairStart = new Int32Array(spec.channels + 1);
  const pairServer: number[] = [];
  const pairMemberStart: number[] = [];
  const pairMemberEnd: number[] = [];
  let i = 0;
  for (let c = 0; c < spec.channels; c++) {
    channelPairStart[c] = pairServer.length;
    while (i < slotChannel.length && slotChannel[i] === c) {
      const s = userServer[slotUser[i]];
      const first = i;
      while (i < slotChannel.length && slotChannel[i] === c && userServer[slotUser[i]] === s) i++;
      pairServer.push(s);
      pairMemberStart.push(first);
      pairMemberEnd.push(i);
    }
  }
  channelPairStart[spec.channels] = pairServer.length;
  return {
    users: spec.users,
    servers: spec.servers,
    channels: spec.channels,
    userServer,
    connections: connected.connections,
    rejected: connected.rejected,
    slotUser,
    slotChannel,
    slotGroup,
    channelPairStart,
    pairServer: Int32Array.from(pairServer),
    pairMemberStart: Int32Array.from(pairMemberStart),
    pairMemberEnd: Int32Array.from(pairMemberEnd),
  };
}

/** Bytes of typed arrays the population holds. */
export function populationBytes(p: Population): number {
  return (
    p.userServer.byteLength +
    p.connections.byteLength +
    p.slotUser.byteLength +
    p.slotChannel.byteLength +
    p.slotGroup.byteLength +
    p.channelPairStart.byteLength +
    p.pairServer.byteLength +
    p.pairMemberStart.byteLength +
    p.pairMemberEnd.byteLength
  );
}
