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
}

/** A fault as the views need it: the schedule entry (its planned duration) and what it did so far. */
export interface FaultEntry extends FaultRecord {
  /** Position in the schedule (the record's identity). */
  index: number;
  /** Planned down time from the schedule (0 = until healed), when known. */
  forS: number;
  /** The server this fault concerns, if any (a scale-out's is the server that joined). */
  server: number | null;
}

const TARGETED = new Set([
  'server-crash',
  'graceful-shutdown',
  'partition',
  'server-restart',
  'partition-heal',
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
    // A partition between named groups is not about one server's broker link.
    const groups = (r.kind === 'partition' || r.kind === 'partition-heal') && f?.to !== undefined;
    const brokerLink = groups && (f.from ?? 'broker') === 'broker' && /^server:\d+$/.test(f.to!);
    out.push({
      ...r,
      index: i,
      forS: f?.forS ?? 0,
      server:
        groups && !brokerLink
          ? null
          : brokerLink
            ? Number(f.to!.slice(7))
            : TARGETED.has(r.kind)
              ? r.target
              : null,
    });
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
  return { servers, partitioned, brokerDown, lbDown, noEffect };
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
  return {
    servers: [...state.servers],
    partitioned: [...state.brokerCut],
    brokerDown: !state.brokerUp,
    lbDown: !state.lbUp,
    noEffect,
  };
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

/** What a fault's hit counts, by kind. */
export function hitUnit(kind: string): string {
  switch (kind) {
    case 'broker-down':
      return 'messages';
    case 'partition':
      return 'connections cut off';
    default:
      return 'connections';
  }
}

/** "server-crash · WS 2 · hit 1,200 connections": what the fault was, where, and what it hit. */
export function faultLabel(
  e: FaultEntry,
  serverName: (s: number) => string,
  nowS: number,
  noEffect?: ReadonlySet<number>,
): string {
  const parts: string[] = [e.kind];
  if (e.server !== null) parts.push(serverName(e.server));
  if (e.atS > nowS) parts.push(`at ${formatSeconds(e.atS)}`);
  else if (noEffect?.has(e.index)) parts.push('no effect: already down');
  else if (e.kind === 'scale-out') parts.push(e.hit > 0 ? 'joined' : 'no room');
  else if (HEAL_KINDS.has(e.kind)) parts.push(e.hit > 0 ? 'healed' : 'nothing was down');
  else parts.push(`hit ${formatCount(e.hit)} ${hitUnit(e.kind)}`);
  return parts.join(' · ');
}

/** Seconds for fault times: "30 s", "12.4 s". */
export function formatSeconds(s: number): string {
  return `${+s.toFixed(s < 10 ? 2 : 1)} s`;
}
