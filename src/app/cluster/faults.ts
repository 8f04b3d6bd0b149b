// What a cluster run's faults mean for the views: which parts are down now, what a click injects, and how each fault reads.
import type { Fault } from '../../scenario/schema.ts';
import type { ClusterState, FaultRecord } from '../../sim/types.ts';
import { formatCount } from '../format.ts';

/** A server as the topology shows it: serving, crashed, draining, gone after a drain, or not joined yet. */
export type ServerCondition = 'up' | 'down' | 'draining' | 'shut-down' | 'absent';

export interface ClusterCondition {
  servers: ServerCondition[];
  /** Per server: cut off from the broker by a partition. */
  partitioned: boolean[];
  brokerDown: boolean;
  lbDown: boolean;
  /** Faults that fired but changed nothing (a crash of a server that was already down). */
  noEffect: Set<number>;
  /** Per server: a slow-link fault (delay, loss or a bandwidth cap) on its user links is in force. */
  slowLink: boolean[];
  /** Per server: which way a partition cuts it from its users now. */
  usersCut: UserCut[];
  /** Per server: the open partitions between it and its users (what "Heal" closes). */
  userCuts: FaultEntry[][];
  /** Per server: the slow-link fault in force, when the schedule says which. */
  slowBy: (FaultEntry | null)[];
}

/** How a partition cuts a server's user links: not, its deliveries, what users send, or both. */
export type UserCut = 'none' | 'to-users' | 'to-server' | 'both';

/** A fault as the views need it: the schedule entry (its planned duration) and what it did so far. */
export interface FaultEntry extends FaultRecord {
  /** Position in the schedule (the record's identity). */
  index: number;
  /** Planned down time from the schedule (0 = until healed), when known. */
  forS: number;
  /** The server this fault concerns, if any (a scale-out's is the server that joined). */
  server: number | null;
  /** Partitions between named groups (and their heals): the groups and whether one way only. */
  from?: string;
  to?: string;
  oneWay?: boolean;
  /** slow-link: what it does to the server's user links. */
  extraLatencyMs?: number;
  lossProbability?: number;
  bandwidthMbps?: number;
}

const TARGETED = new Set([
  'server-crash',
  'graceful-shutdown',
  'partition',
  'server-restart',
  'partition-heal',
  'slow-link',
]);

/** Heals end a fault left open; the timeline draws them on the bar they close, not as rows. */
export const HEAL_KINDS = new Set(['server-restart', 'broker-up', 'lb-up', 'partition-heal']);

/**
 * The records the snapshot carries, extended with schedule entries it does not have yet (a fault
 * injected since the last update), each with the server it concerns.
 */
export function faultEntries(
  records: readonly FaultRecord[],
  schedule: readonly Fault[],
  initialServers: number,
): FaultEntry[] {
  const n = Math.max(records.length, schedule.length);
  const out: FaultEntry[] = [];
  // Scale-outs join in the order they fire: the k-th adds server initialServers + k.
  const scaleOuts: FaultEntry[] = [];
  for (let i = 0; i < n; i++) {
    const f = schedule[i];
    const r: FaultRecord = records[i] ?? {
      kind: f.kind,
      atS: f.atS,
      target: f.target,
      hit: 0,
      recoveredAtS: null,
      applied: false,
    };
    const shape: Partial<FaultEntry> = {};
    let server = TARGETED.has(r.kind) ? r.target : null;
    if (f && (r.kind === 'partition' || r.kind === 'partition-heal')) {
      // The groups as the model reads them: without from/to, broker ↔ server `target`.
      shape.from = f.from ?? 'broker';
      shape.to = f.to ?? `server:${f.target}`;
      shape.oneWay = f.oneWay;
      // Only a broker ↔ server partition concerns one server's broker link.
      const other =
        shape.from === 'broker' ? shape.to : shape.to === 'broker' ? shape.from : undefined;
      const m = other === undefined ? null : /^server:(\d+)$/.exec(other);
      server = m ? Number(m[1]) : null;
    }
    if (f && r.kind === 'slow-link') {
      shape.extraLatencyMs = f.extraLatencyMs;
      shape.lossProbability = f.lossProbability;
      shape.bandwidthMbps = f.bandwidthMbps;
    }
    out.push({ ...r, ...shape, index: i, forS: f?.forS ?? 0, server });
    if (r.kind === 'scale-out') scaleOuts.push(out[out.length - 1]);
  }
  scaleOuts
    .sort((a, b) => a.atS - b.atS || a.index - b.index)
    .forEach((e, k) => (e.server = initialServers + k));
  return out;
}

/**
 * Replays the fired faults up to `nowS` to tell which parts are down (between snapshots, a fault
 * just injected shows at once). It follows the model's rules: a fault that changes nothing (a crash
 * of a server that is not serving) has nothing to recover, only the crash that took a server down
 * brings it back, a drained server never comes back, and a fault is over when the run recorded
 * its recovery.
 */
export function clusterCondition(
  entries: readonly FaultEntry[],
  nowS: number,
  initialServers: number,
  shownServers: number,
  drainS: number,
): ClusterCondition {
  const servers: ServerCondition[] = Array.from({ length: shownServers }, (_, i) =>
    i < initialServers ? 'up' : 'absent',
  );
  const partitioned = Array.from({ length: shownServers }, () => false);
  let brokerDown = false;
  let lbDown = false;
  type Step = { atS: number; end: boolean; e: FaultEntry };
  const steps: Step[] = [];
  for (const e of entries) {
    if (e.atS > nowS) continue;
    steps.push({ atS: e.atS, end: false, e });
    if (e.recoveredAtS !== null && e.recoveredAtS <= nowS)
      steps.push({ atS: e.recoveredAtS, end: true, e });
  }
  // Faults fire before same-time recoveries, in schedule order (the model's order).
  steps.sort((a, b) => a.atS - b.atS || Number(a.end) - Number(b.end) || a.e.index - b.e.index);
  const effective = new Set<number>();
  const noEffect = new Set<number>();
  /** The crash that took each server down. */
  const downBy = new Map<number, FaultEntry>();
  for (const { end, e } of steps) {
    const s = e.server ?? -1;
    const inRange = s >= 0 && s < shownServers;
    switch (e.kind) {
      case 'server-crash':
        if (!inRange) break;
        if (!end && servers[s] === 'up') {
          servers[s] = 'down';
          effective.add(e.index);
          downBy.set(s, e);
        } else if (!end) noEffect.add(e.index);
        else if (servers[s] === 'down' && downBy.get(s)?.index === e.index) servers[s] = 'up';
        break;
      case 'graceful-shutdown':
        if (inRange && !end && servers[s] === 'up')
          servers[s] = e.atS + drainS <= nowS ? 'shut-down' : 'draining';
        break;
      case 'scale-out':
        if (inRange && servers[s] === 'absent') servers[s] = 'up';
        break;
      case 'partition':
        if (inRange) partitioned[s] = !end;
        break;
      case 'broker-down':
        brokerDown = !end;
        break;
      case 'lb-down':
        lbDown = !end;
        break;
    }
  }
  const links = linkReplay(entries, nowS, shownServers);
  for (const i of links.noEffect) noEffect.add(i);
  return {
    servers,
    partitioned,
    brokerDown,
    lbDown,
    noEffect,
    slowLink: links.slowBy.map((e) => e !== null),
    usersCut: links.usersCut,
    userCuts: links.userCuts,
    slowBy: links.slowBy,
  };
}

/**
 * The condition as the model reports it (the snapshot's `state`): used whenever the snapshot is
 * at least as new as the last click, so the views show what the run really has.
 */
export function conditionFromState(
  state: ClusterState,
  entries: readonly FaultEntry[],
  nowS: number,
): ClusterCondition {
  const noEffect = new Set<number>();
  for (const e of entries)
    if (e.atS <= nowS && e.applied === false && !HEAL_KINDS.has(e.kind)) noEffect.add(e.index);
  const links = linkReplay(entries, nowS, state.servers.length);
  return {
    servers: [...state.servers],
    partitioned: [...state.brokerCut],
    brokerDown: !state.brokerUp,
    lbDown: !state.lbUp,
    noEffect,
    // Older snapshots (or runs without the field) fall back to the replay.
    slowLink: state.slowLink ? [...state.slowLink] : links.slowBy.map((e) => e !== null),
    usersCut: links.usersCut,
    userCuts: links.userCuts,
    slowBy: links.slowBy,
  };
}

/** A partition's identity as the model keys it: a heal closes the open one with the same key. */
export function partitionKey(e: Pick<FaultEntry, 'from' | 'to' | 'oneWay' | 'target'>): string {
  return `${e.from ?? 'broker'}>${e.to ?? `server:${e.target}`}/${e.oneWay ? 1 : 0}`;
}

/** Which servers a group names: one, all of them, or none (not a server group). */
function serverSide(group: string): number | 'all' | null {
  if (group === 'servers') return 'all';
  const m = /^server:(\d+)$/.exec(group);
  return m ? Number(m[1]) : null;
}

const isUsers = (group: string) => group === 'users' || /^users:\d+$/.test(group);

/**
 * What a partition does to server user links: the servers it concerns and the direction it cuts
 * (null for partitions that do not stand between servers and users, or only by region).
 */
export function userLinkCut(
  e: Pick<FaultEntry, 'from' | 'to' | 'oneWay'>,
): { servers: number | 'all'; cut: Exclude<UserCut, 'none'> } | null {
  if (e.from === undefined || e.to === undefined) return null;
  const a = serverSide(e.from);
  const b = serverSide(e.to);
  if (a !== null && isUsers(e.to)) return { servers: a, cut: e.oneWay ? 'to-users' : 'both' };
  if (b !== null && isUsers(e.from)) return { servers: b, cut: e.oneWay ? 'to-server' : 'both' };
  return null;
}

function joinCuts(a: UserCut, b: UserCut): UserCut {
  if (a === 'none') return b;
  if (b === 'none' || a === b) return a;
  return 'both';
}

/** When a lasting fault ends: its recorded recovery, else its planned one (null: not planned). */
function endOf(e: FaultEntry): number | null {
  return e.recoveredAtS ?? (e.forS > 0 ? e.atS + e.forS : null);
}

/**
 * Replays partitions and slow links up to `nowS` with the model's rules: a partition with the
 * same groups as one in force changes nothing, a heal closes the open one with its key, a link
 * already slowed takes no second slow-link; each ends at its recovery (or its planned end).
 */
export function linkReplay(
  entries: readonly FaultEntry[],
  nowS: number,
  shownServers: number,
): {
  usersCut: UserCut[];
  userCuts: FaultEntry[][];
  slowBy: (FaultEntry | null)[];
  noEffect: Set<number>;
} {
  const noEffect = new Set<number>();
  const open = new Map<string, FaultEntry>();
  const slowBy: (FaultEntry | null)[] = Array.from({ length: shownServers }, () => null);
  const slowUntil = Array.from({ length: shownServers }, () => -Infinity);
  type Step = { atS: number; end: boolean; e: FaultEntry };
  const steps: Step[] = [];
  for (const e of entries) {
    if (e.atS > nowS) continue;
    if (e.kind !== 'partition' && e.kind !== 'partition-heal' && e.kind !== 'slow-link') continue;
    steps.push({ atS: e.atS, end: false, e });
    const end = e.kind === 'partition' ? endOf(e) : null;
    if (end !== null && end <= nowS) steps.push({ atS: end, end: true, e });
  }
  steps.sort((a, b) => a.atS - b.atS || Number(a.end) - Number(b.end) || a.e.index - b.e.index);
  for (const { atS, end, e } of steps) {
    if (e.kind === 'slow-link') {
      const s = e.target;
      if (s < 0 || s >= shownServers) continue;
      if (slowUntil[s] > atS) {
        noEffect.add(e.index);
        continue;
      }
      slowUntil[s] = endOf(e) ?? Infinity;
      slowBy[s] = e;
      continue;
    }
    const key = partitionKey(e);
    if (e.kind === 'partition-heal') open.delete(key);
    else if (end) {
      if (open.get(key) === e) open.delete(key);
    } else if (open.has(key)) noEffect.add(e.index);
    else open.set(key, e);
  }
  for (let s = 0; s < shownServers; s++) if (slowUntil[s] <= nowS) slowBy[s] = null;
  const usersCut: UserCut[] = Array.from({ length: shownServers }, () => 'none');
  const userCuts: FaultEntry[][] = Array.from({ length: shownServers }, () => []);
  for (const e of open.values()) {
    const link = userLinkCut(e);
    if (!link) continue;
    for (let s = 0; s < shownServers; s++)
      if (link.servers === 'all' || link.servers === s) {
        usersCut[s] = joinCuts(usersCut[s], link.cut);
        userCuts[s].push(e);
      }
  }
  return { usersCut, userCuts, slowBy, noEffect };
}

/** A fault for the worker: kind and its fields (the worker fills in the time: now). */
export type FaultInput = Partial<Fault> & { kind: Fault['kind'] };

/** What clicking a server does: crash a serving one (it stays down), restart a crashed one. */
export function serverToggle(condition: ServerCondition, s: number): FaultInput | null {
  if (condition === 'up') return { kind: 'server-crash', target: s, forS: 0, loseState: true };
  if (condition === 'down') return { kind: 'server-restart', target: s };
  return null;
}

export function brokerToggle(down: boolean): FaultInput {
  return down ? { kind: 'broker-up' } : { kind: 'broker-down', forS: 0 };
}

export function lbToggle(down: boolean): FaultInput {
  return down ? { kind: 'lb-up' } : { kind: 'lb-down', forS: 0 };
}

export function partitionToggle(cut: boolean, s: number): FaultInput {
  return cut ? { kind: 'partition-heal', target: s } : { kind: 'partition', target: s, forS: 0 };
}

/** How long a slow-link injected by click lasts (it has no heal: it ends on its own). */
export const SLOW_LINK_S = 20;

/** A slow-link on server `s`'s user links: extra delay, loss or a bandwidth cap, for `forS`. */
export function slowLinkFault(
  s: number,
  change: { extraLatencyMs?: number; lossProbability?: number; bandwidthMbps?: number },
  forS = SLOW_LINK_S,
): FaultInput {
  return { kind: 'slow-link', target: s, forS, ...change };
}

/**
 * A partition between server `s` and the users: `to-server` cuts only what users send (acks,
 * pongs, handshakes), `to-users` only what the server sends, `both` everything. Until healed.
 */
export function userPartitionFault(s: number, cut: Exclude<UserCut, 'none'>): FaultInput {
  const server = `server:${s}`;
  return cut === 'to-server'
    ? { kind: 'partition', target: s, from: 'users', to: server, oneWay: true, forS: 0 }
    : {
        kind: 'partition',
        target: s,
        from: server,
        to: 'users',
        oneWay: cut === 'to-users',
        forS: 0,
      };
}

/** The heal of an open partition: the same groups and direction. */
export function partitionHeal(
  e: Pick<FaultEntry, 'from' | 'to' | 'oneWay' | 'target'>,
): FaultInput {
  if (e.from === undefined && e.to === undefined)
    return { kind: 'partition-heal', target: e.target };
  return {
    kind: 'partition-heal',
    target: e.target,
    from: e.from ?? 'broker',
    to: e.to ?? `server:${e.target}`,
    oneWay: e.oneWay ?? false,
  };
}

/** What a fault's hit counts, by kind. */
export function hitUnit(kind: string): string {
  switch (kind) {
    case 'broker-down':
      return 'messages';
    case 'partition':
      return 'connections cut off';
    case 'slow-link':
      return 'connections slowed';
    default:
      return 'connections';
  }
}

/** Why a fault that fired changed nothing, by kind. */
export function noEffectReason(kind: string): string {
  switch (kind) {
    case 'server-crash':
    case 'broker-down':
    case 'lb-down':
      return 'already down';
    case 'graceful-shutdown':
      return 'not serving';
    case 'scale-out':
      return 'no room';
    case 'partition':
      return 'already cut';
    case 'slow-link':
      return 'link already slowed';
    default:
      return 'nothing to hit';
  }
}

/** A partition group for people: `server:1` → "WS 2"; other groups as the scenario names them. */
export function groupName(group: string, serverName: (s: number) => string): string {
  const m = /^server:(\d+)$/.exec(group);
  return m ? serverName(Number(m[1])) : group;
}

/** "users → WS 2 (one way)", "region:0 ⇄ region:1": the groups a partition cuts apart. */
export function partitionGroups(
  e: Pick<FaultEntry, 'from' | 'to' | 'oneWay' | 'target'>,
  serverName: (s: number) => string,
): string {
  const from = groupName(e.from ?? 'broker', serverName);
  const to = groupName(e.to ?? `server:${e.target}`, serverName);
  return e.oneWay ? `${from} → ${to} (one way)` : `${from} ⇄ ${to}`;
}

/** "+200 ms, 5% loss, cap 1 Mbit/s": what a slow-link does to a server's user links. */
export function slowLinkWhat(
  e: Pick<FaultEntry, 'extraLatencyMs' | 'lossProbability' | 'bandwidthMbps'>,
): string {
  const parts: string[] = [];
  if (e.extraLatencyMs) parts.push(`+${+e.extraLatencyMs.toFixed(1)} ms`);
  if (e.lossProbability) parts.push(`${+(e.lossProbability * 100).toFixed(1)}% loss`);
  if (e.bandwidthMbps) parts.push(`cap ${formatMbps(e.bandwidthMbps)}`);
  return parts.length ? parts.join(', ') : 'no change';
}

/** "1 Mbit/s", "250 kbit/s". */
export function formatMbps(mbps: number): string {
  return mbps >= 1 ? `${+mbps.toFixed(1)} Mbit/s` : `${+(mbps * 1000).toFixed(0)} kbit/s`;
}

/** "server-crash · WS 2 · hit 1,200 connections": what the fault was, where, and what it hit. */
export function faultLabel(
  e: FaultEntry,
  serverName: (s: number) => string,
  nowS: number,
  noEffect?: ReadonlySet<number>,
): string {
  const parts: string[] = [e.kind];
  const grouped =
    (e.kind === 'partition' || e.kind === 'partition-heal') &&
    e.from !== undefined &&
    (e.server === null || e.oneWay === true);
  if (grouped) parts.push(partitionGroups(e, serverName));
  else if (e.server !== null) parts.push(serverName(e.server));
  if (e.kind === 'slow-link')
    parts.push(`${slowLinkWhat(e)}${e.forS > 0 ? ` for ${formatSeconds(e.forS)}` : ''}`);
  if (e.atS > nowS) parts.push(`at ${formatSeconds(e.atS)}`);
  else if (noEffect?.has(e.index)) parts.push(`no effect: ${noEffectReason(e.kind)}`);
  else if (e.kind === 'scale-out') parts.push(e.hit > 0 ? 'joined' : 'no room');
  else if (HEAL_KINDS.has(e.kind)) parts.push(e.hit > 0 ? 'healed' : 'nothing was down');
  else parts.push(`hit ${formatCount(e.hit)} ${hitUnit(e.kind)}`);
  return parts.join(' · ');
}

/** Seconds for fault times: "30 s", "12.4 s". */
export function formatSeconds(s: number): string {
  return `${+s.toFixed(s < 10 ? 2 : 1)} s`;
}
