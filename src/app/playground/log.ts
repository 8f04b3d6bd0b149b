// The live log's pure parts: entries, per-protocol counters, gap detection and the capped list.
import type { Update } from './clients/types.ts';

export const PROTOCOLS = ['polling', 'long-polling', 'sse', 'websocket'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export const PROTOCOL_LABELS: Record<Protocol, string> = {
  polling: 'Polling',
  'long-polling': 'Long polling',
  sse: 'Server-Sent Events',
  websocket: 'WebSocket',
};

/** Entries kept per protocol; older ones scroll away (the counters still count them). */
export const LOG_CAP = 150;

export type EntryKind =
  | 'request'
  | 'response'
  | 'empty'
  | 'message'
  | 'open'
  | 'closed'
  | 'sent'
  /** What the mock server did, shown for teaching (a resume, a drop). */
  | 'server';

export interface LogEntry {
  /** Unique across the session, for keyed rendering. */
  key: number;
  /** Wall-clock time (Date.now()). */
  atMs: number;
  kind: EntryKind;
  text: string;
  /** Sequence numbers of the updates this entry carried. */
  seqs: number[];
  bytes: number;
  /** From the update's creation (wall-clock mapped) to its arrival, for the newest update carried. */
  latencyMs?: number;
  /** Updates skipped before this entry's first one: lost, never to arrive on this protocol. */
  missed?: { from: number; to: number };
}

export interface Counters {
  requests: number;
  /** Responses that carried no update: the waste polling pays for asking on a timer. */
  emptyResponses: number;
  responses: number;
  updates: number;
  bytes: number;
  /** Highest sequence number received (0 before the first). */
  lastSeq: number;
  /** Updates skipped (a gap in sequence numbers) and never delivered. */
  missed: number;
  /** Updates received twice or out of order. */
  duplicates: number;
  latencySumMs: number;
  latencyCount: number;
  maxLatencyMs: number;
  reconnects: number;
}

export function emptyCounters(): Counters {
  return {
    requests: 0,
    emptyResponses: 0,
    responses: 0,
    updates: 0,
    bytes: 0,
    lastSeq: 0,
    missed: 0,
    duplicates: 0,
    latencySumMs: 0,
    latencyCount: 0,
    maxLatencyMs: 0,
    reconnects: 0,
  };
}

/** The share of responses that were empty: 0..1, or NaN before the first response. */
export function wastedShare(c: Counters): number {
  return c.responses > 0 ? c.emptyResponses / c.responses : NaN;
}

export function meanLatencyMs(c: Counters): number {
  return c.latencyCount > 0 ? c.latencySumMs / c.latencyCount : NaN;
}

/** What a batch of sequence numbers means against the last one seen. */
export interface SeqCheck {
  lastSeq: number;
  fresh: number[];
  duplicates: number;
  missed?: { from: number; to: number };
}

/**
 * Checks arriving sequence numbers. The first update a protocol sees sets its baseline (it may
 * join late); after that, a jump is a gap: updates that were published and never arrived.
 */
export function checkSeqs(lastSeq: number, seqs: number[]): SeqCheck {
  let last = lastSeq;
  const fresh: number[] = [];
  let duplicates = 0;
  let missed: SeqCheck['missed'];
  for (const seq of seqs) {
    if (seq <= last) {
      duplicates++;
      continue;
    }
    if (last > 0 && seq > last + 1) {
      missed = missed ? { from: missed.from, to: seq - 1 } : { from: last + 1, to: seq - 1 };
    }
    fresh.push(seq);
    last = seq;
  }
  return { lastSeq: last, fresh, duplicates, missed };
}

/** Counts of skipped updates in a `missed` range. */
export function gapSize(missed: { from: number; to: number } | undefined): number {
  return missed ? missed.to - missed.from + 1 : 0;
}

/** What the instrument adds to a report: when each update was created, on the page's clock. */
export type CreatedAt = (seq: number) => number | undefined;

/** The log entry and new counters for a batch of updates that arrived at `nowMs` (page clock). */
export function receive(
  counters: Counters,
  updates: Update[],
  bytes: number,
  nowMs: number,
  createdAt: CreatedAt,
  isResponse: boolean,
): { counters: Counters; entry: Omit<LogEntry, 'key' | 'atMs' | 'text' | 'kind'> } {
  const check = checkSeqs(
    counters.lastSeq,
    updates.map((u) => u.seq),
  );
  const c = { ...counters };
  c.bytes += bytes;
  if (isResponse) {
    c.responses++;
    if (updates.length === 0) c.emptyResponses++;
  }
  c.updates += check.fresh.length;
  c.duplicates += check.duplicates;
  c.missed += gapSize(check.missed);
  c.lastSeq = check.lastSeq;
  let latencyMs: number | undefined;
  for (const seq of check.fresh) {
    const created = createdAt(seq);
    if (created === undefined) continue;
    const ms = Math.max(0, nowMs - created);
    c.latencySumMs += ms;
    c.latencyCount++;
    if (ms > c.maxLatencyMs) c.maxLatencyMs = ms;
    latencyMs = ms;
  }
  return {
    counters: c,
    entry: { seqs: updates.map((u) => u.seq), bytes, latencyMs, missed: check.missed },
  };
}

/** Appends newest-first and caps the list, keeping the same array when nothing is added. */
export function prependCapped<T>(list: T[], added: T[], cap = LOG_CAP): T[] {
  if (added.length === 0) return list;
  const next = [...added].reverse().concat(list);
  return next.length > cap ? next.slice(0, cap) : next;
}

/** "#12", "#12–#15" or "#12, #14": the sequence numbers of one entry, compactly. */
export function seqLabel(seqs: number[]): string {
  if (seqs.length === 0) return '';
  if (seqs.length === 1) return `#${seqs[0]}`;
  const contiguous = seqs.every((s, i) => i === 0 || s === seqs[i - 1] + 1);
  if (contiguous) return `#${seqs[0]}–#${seqs[seqs.length - 1]}`;
  return seqs.length <= 4
    ? seqs.map((s) => `#${s}`).join(', ')
    : `#${seqs[0]} … #${seqs[seqs.length - 1]} (${seqs.length})`;
}

/** Wall-clock time of day with milliseconds: "14:03:07.250". */
export function clockLabel(atMs: number): string {
  const d = new Date(atMs);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}
