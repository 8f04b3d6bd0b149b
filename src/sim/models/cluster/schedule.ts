// The fault schedule: the scenario's faults, those injected during the run and the autoscaler's, what each hit, and which are still to come.
import { ScenarioError } from '../../../scenario/errors.ts';
import { faultSchema, type Fault } from '../../../scenario/schema.ts';
import type { FaultRecord } from '../../types.ts';

export class FaultSchedule {
  /** The fault schedule: the scenario's, plus faults injected while the run goes on. */
  readonly entries: Fault[];
  /** What each entry did (same index): applied or not, what it hit, when it recovered. */
  readonly records: FaultRecord[];
  /** Faults still to happen: [time µs, schedule index], in time order. */
  private readonly pending: [number, number][] = [];

  constructor(
    faults: readonly Fault[],
    private readonly clock: { readonly nowUs: number },
  ) {
    this.entries = faults.map((f) => ({ ...f }));
    this.records = faults.map((f) => ({
      kind: f.kind,
      atS: f.atS,
      target: f.target,
      hit: 0,
      recoveredAtS: null,
      applied: false,
    }));
    this.entries.forEach((f, i) => this.pending.push([Math.round(f.atS * 1e6), i]));
    this.pending.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  }

  /** When the next fault happens (Infinity when none is left). */
  get nextUs(): number {
    return this.pending.length > 0 ? this.pending[0][0] : Infinity;
  }

  /** Whether a fault is due no later than `us` (faults go before queued events at the same time). */
  due(us: number): boolean {
    return this.pending.length > 0 && this.pending[0][0] <= us;
  }

  /** Removes the next fault to happen: [time µs, schedule index]. */
  take(): [number, number] {
    return this.pending.shift()!;
  }

  hit(kind: string, n: number): void {
    // Broker outages count what they hit while they last.
    for (let i = this.records.length - 1; i >= 0; i--) {
      const f = this.records[i];
      if (f.kind === kind && f.atS * 1e6 <= this.clock.nowUs && f.recoveredAtS === null) {
        f.hit += n;
        return;
      }
    }
  }

  /** The autoscaler's decision: one more server, usable at `atUs` (after it has booted). */
  scaleOutAt(atUs: number): void {
    const i = this.entries.length;
    const fault: Fault = {
      kind: 'scale-out',
      atS: atUs / 1e6,
      target: 0,
      forS: 0,
      loseState: false,
      share: 1,
      extraLatencyMs: 0,
      lossProbability: 0,
      bandwidthMbps: 0,
      oneWay: false,
    };
    this.entries.push(fault);
    this.records.push({
      kind: 'scale-out',
      atS: fault.atS,
      target: 0,
      hit: 0,
      recoveredAtS: null,
      applied: false,
    });
    this.pending.push([Math.round(atUs), i]);
    this.pending.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  }

  /**
   * Injects a fault now (a click in the lab). It joins the schedule like any other, so a run that
   * replays the same schedule — the URL records it — reproduces it exactly.
   */
  inject(raw: unknown, serverCount: number, maxServers: number): FaultRecord {
    const parsed = faultSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ScenarioError(['fault', ...issue.path.map(String)].join('.'), issue.message);
    }
    // Not earlier than one microsecond after now: what already happened stays as it was.
    const f = { ...parsed.data, atS: Math.max(parsed.data.atS, (this.clock.nowUs + 1) / 1e6) };
    const servers = f.kind === 'scale-out' ? maxServers : serverCount;
    if (
      (f.kind === 'server-crash' ||
        f.kind === 'graceful-shutdown' ||
        f.kind === 'partition' ||
        f.kind === 'slow-link') &&
      f.target >= servers
    )
      throw new ScenarioError('fault.target', `must be a server from 0 to ${servers - 1}`);
    if (f.kind === 'scale-out' && serverCount >= maxServers)
      throw new ScenarioError('fault.kind', 'no room for another server in this run');
    const i = this.entries.length;
    this.entries.push(f);
    const rec: FaultRecord = {
      kind: f.kind,
      atS: f.atS,
      target: f.target,
      hit: 0,
      recoveredAtS: null,
      applied: false,
    };
    this.records.push(rec);
    this.pending.push([Math.round(f.atS * 1e6), i]);
    this.pending.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    return rec;
  }
}
