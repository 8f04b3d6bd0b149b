// Checker: a client that applies deltas and snapshots holds exactly the source's state as of the last update it applied.
import type { UpdateSchema } from '../shaping/encoding/schemas.ts';
import { changedMask } from '../shaping/encoding/payloads.ts';

/** One frame entry a client applied: a full snapshot, or a delta carrying the fields in `mask`. */
export interface StateDelivery {
  /** The subscription (a client's copy of one key). */
  slot: number;
  /** The key (channel) the update is for; the source's state is a function of (key, sequence). */
  channel: number;
  seq: number;
  full: boolean;
  mask: number;
}

export interface DeltaStateReport {
  clients: number;
  applied: number;
  /** A client's state after applying `seq` differed from the source's in `field`. */
  violations: {
    slot: number;
    channel: number;
    seq: number;
    field: string;
    heldVersion: number;
    sourceVersion: number;
  }[];
  /** A delta reached a client that held no state (no snapshot yet): its base was missing. */
  noBase: { slot: number; seq: number }[];
}

/**
 * Per key, the version at which each field last changed, for every version up to the highest one
 * seen: a field's value is a function of (key, field, version of its last change), so comparing
 * those versions compares the values.
 */
class SourceHistory {
  private readonly byChannel = new Map<number, Int32Array[]>();

  constructor(private readonly schema: UpdateSchema) {}

  /** The version of field f's value in key c's state after update `seq`. */
  fieldVersion(c: number, f: number, seq: number): number {
    let rows = this.byChannel.get(c);
    if (!rows || rows.length <= seq) rows = this.extend(c, rows ?? [], seq);
    return rows[seq][f];
  }

  private extend(c: number, rows: Int32Array[], seq: number): Int32Array[] {
    const n = this.schema.fields.length;
    for (let v = rows.length; v <= seq; v++) {
      const mask = changedMask(this.schema, c, v);
      const row = new Int32Array(n);
      for (let f = 0; f < n; f++) row[f] = v === 0 || mask & (1 << f) ? v : rows[v - 1][f];
      rows.push(row);
    }
    this.byChannel.set(c, rows);
    return rows;
  }
}

/**
 * Replays each client's deliveries in order: a snapshot sets every field to the source's value
 * at its sequence; a delta sets the fields it carries. After each one the client's state must
 * equal the source's at that sequence — a delta that misses a field changed since the client's
 * base (a merge that dropped a field, a delta sent after a lost frame) shows up here.
 */
export function checkDeltaState(
  schema: UpdateSchema,
  deliveries: readonly StateDelivery[],
): DeltaStateReport {
  const source = new SourceHistory(schema);
  const n = schema.fields.length;
  const held = new Map<number, Int32Array>();
  const report: DeltaStateReport = { clients: 0, applied: 0, violations: [], noBase: [] };
  for (const d of deliveries) {
    let state = held.get(d.slot);
    if (!state) {
      if (!d.full) {
        report.noBase.push({ slot: d.slot, seq: d.seq });
        continue;
      }
      state = new Int32Array(n).fill(-1);
      held.set(d.slot, state);
      report.clients++;
    }
    for (let f = 0; f < n; f++)
      if (d.full || d.mask & (1 << f)) state[f] = source.fieldVersion(d.channel, f, d.seq);
    report.applied++;
    for (let f = 0; f < n; f++) {
      const want = source.fieldVersion(d.channel, f, d.seq);
      if (state[f] !== want) {
        report.violations.push({
          slot: d.slot,
          channel: d.channel,
          seq: d.seq,
          field: schema.fields[f].name,
          heldVersion: state[f],
          sourceVersion: want,
        });
        state[f] = want;
      }
    }
  }
  return report;
}
