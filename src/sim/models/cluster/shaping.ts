// Update shaping in the cluster model: per-key throttles with conflation, per-connection batches, and encoded frame sizes.
import type { EventQueue } from '../../queue.ts';
import { word0 } from '../../engine.ts';
import type { ShapingConfig } from '../../shaping/config.ts';
import { wireBytesOf } from '../../shaping/framing.ts';
import { IdList, Outbox } from '../../shaping/outbox.ts';
import type { ShapingStats } from '../../types.ts';

/** Events the cluster model hands to this module (kinds the model reserves for it). */
export const EV_SHAPE_RELEASE = 20; // arg: server × channels + channel
export const EV_SHAPE_FLUSH = 21; // arg: server

/** What the module needs the model to do: write one frame of `ids` to user u's connection. */
export interface ClusterShapingHost {
  readonly queue: EventQueue;
  /** Users of server s following channel c, in the model's order (calls `each` for each). */
  members(s: number, c: number, each: (u: number) => void): void;
  /**
   * Writes a frame carrying `ids` (in order) to u: CPU once, `wireBytes` on the wire. A frame
   * built by conflation says so: the client skips, without a gap fetch, what it superseded.
   */
  sendFrame(
    now: number,
    u: number,
    ids: readonly number[],
    wireBytes: number,
    superseding: boolean,
  ): void;
  /** Whether user u holds a live connection on server s now. */
  connectedTo(u: number, s: number): boolean;
}

/**
 * The cluster model delivers each user its one channel with reliability (sequence numbers,
 * gap fetches, resume), so shaping here is what keeps those rules: a per-key throttle per
 * (server, channel) that holds the newest update (conflation: the client is told the skipped
 * sequence numbers were superseded, not lost) or queues them all; a per-connection batch window
 * flushed on each server's tick; and frame sizes from the real encoders plus WebSocket, TLS and
 * TCP/IP framing. Deltas, priorities, subscription churn and audience filters run on the
 * two-hop model.
 */
export class ClusterShaping {
  private readonly held: Outbox;
  private readonly nextUs: Float64Array;
  private readonly scheduled: Uint8Array;
  private readonly outbox: Outbox;
  private readonly dirty: IdList[];
  private readonly tickScheduled: Uint8Array;
  private readonly phaseUs: Float64Array;
  private readonly fullBytes: number;
  private readonly entryBytes: number;
  private saved = { throttle: 0, conflation: 0, batching: 0, deflateBytes: 0 };
  private frames = 0;
  private updates = 0;
  private wire = 0;
  private maxHoldUs = 0;
  private backlog = 0;
  private readonly ids: number[] = [];

  constructor(
    readonly config: ShapingConfig,
    private readonly host: ClusterShapingHost,
    private readonly servers: number,
    private readonly channels: number,
    users: number,
    phase: () => number,
  ) {
    const keys = config.perKeyIntervalUs > 0 ? servers * channels : 0;
    this.held = new Outbox(keys, 1);
    this.nextUs = new Float64Array(keys);
    this.scheduled = new Uint8Array(keys);
    this.outbox = new Outbox(config.batchWindowUs > 0 ? users : 0, 1);
    this.dirty = [];
    for (let s = 0; s < servers; s++) this.dirty.push(new IdList());
    this.tickScheduled = new Uint8Array(servers);
    this.phaseUs = new Float64Array(servers);
    for (let s = 0; s < servers; s++) this.phaseUs[s] = Math.floor(phase() * config.batchWindowUs);
    const t = config.table;
    this.fullBytes = t.messageBytes(t.fullMask);
    this.entryBytes = t.entryBytes(t.fullMask);
  }

  /** Bytes of one full update (the payload an update record carries). */
  get payloadBytes(): number {
    return this.fullBytes;
  }

  /** Server s has update `id` of channel c for its local users. */
  onServerIn(now: number, s: number, c: number, id: number): void {
    const c0 = this.config;
    if (c0.perKeyIntervalUs === 0) return this.fanOut(now, s, c, id, false);
    const k = s * this.channels + c;
    if (now >= this.nextUs[k] && this.held.count[k] === 0) {
      this.nextUs[k] = now + c0.perKeyIntervalUs;
      return this.fanOut(now, s, c, id, false);
    }
    if (c0.conflation !== 'off' && this.held.count[k] > 0) {
      const e = this.held.head[k];
      this.held.conflate(k, e, c0.conflation, id, 0, true, now, 0);
      this.saved.throttle++;
    } else {
      this.held.append(k, id, 0, 0, c0.conflation !== 'off', -1, now, now, 0);
      if (c0.conflation === 'off') this.backlog++;
    }
    if (!this.scheduled[k]) {
      this.scheduled[k] = 1;
      this.host.queue.push(Math.ceil(this.nextUs[k]), word0(EV_SHAPE_RELEASE, k), 0);
    }
  }

  /** The throttle of (server, channel) k lets its next update go. */
  onRelease(now: number, k: number): void {
    this.scheduled[k] = 0;
    const e = this.held.shift(k);
    if (e < 0) return;
    const id = this.held.msg(e);
    const superseding = this.held.full(e);
    this.held.release(e);
    if (this.config.conflation === 'off') this.backlog--;
    this.nextUs[k] = now + this.config.perKeyIntervalUs;
    const s = Math.floor(k / this.channels);
    this.fanOut(now, s, k - s * this.channels, id, superseding);
    if (this.held.count[k] > 0) {
      this.scheduled[k] = 1;
      this.host.queue.push(Math.ceil(this.nextUs[k]), word0(EV_SHAPE_RELEASE, k), 0);
    }
  }

  private fanOut(now: number, s: number, c: number, id: number, superseding: boolean): void {
    this.host.members(s, c, (u) => this.offer(now, s, u, id, superseding));
  }

  /** One update for one connection: at once, or into its batch (folded into a waiting one of the same key). */
  private offer(now: number, s: number, u: number, id: number, superseding: boolean): void {
    const c = this.config;
    if (c.batchWindowUs === 0) return this.send(now, u, [id], false, superseding);
    const o = this.outbox;
    if (c.conflation !== 'off' && o.count[u] > 0) {
      // Each user follows one channel: anything waiting is the same key.
      o.conflate(u, o.head[u], c.conflation, id, 0, true, now, 0);
      this.saved.conflation++;
      return;
    }
    if (o.count[u] === 0) this.markDirty(now, s, u);
    o.append(u, id, s, 0, superseding, -1, now, now, this.entryBytes);
    if (o.count[u] >= c.batchMaxMessages || o.bytes[u] >= c.batchMaxBytes) this.flushUser(now, u);
  }

  private markDirty(now: number, s: number, u: number): void {
    this.dirty[s].push(u);
    if (this.tickScheduled[s]) return;
    this.tickScheduled[s] = 1;
    const period = this.config.batchWindowUs;
    const phase = this.phaseUs[s];
    const at = phase + Math.ceil((now - phase) / period) * period;
    this.host.queue.push(Math.max(now, at), word0(EV_SHAPE_FLUSH, s), 0);
  }

  /** Server s's batch tick: every waiting connection sends its batch. */
  onFlush(now: number, s: number): void {
    this.tickScheduled[s] = 0;
    const list = this.dirty[s];
    this.dirty[s] = new IdList();
    for (let k = 0; k < list.n; k++)
      if (this.outbox.count[list.ids[k]] > 0) this.flushUser(now, list.ids[k]);
  }

  private flushUser(now: number, u: number): void {
    const o = this.outbox;
    const ids = this.ids;
    ids.length = 0;
    let superseding = false;
    let e = o.take(u);
    const s = e >= 0 ? o.slot(e) : -1;
    while (e >= 0) {
      ids.push(o.msg(e));
      if (o.full(e)) superseding = true;
      const hold = now - o.enqueuedUs(e);
      if (hold > this.maxHoldUs) this.maxHoldUs = hold;
      const next = o.next(e);
      o.release(e);
      e = next;
    }
    // A user who moved to another server meanwhile gets nothing from this one: resume covers it.
    if (ids.length > 0 && this.host.connectedTo(u, s)) this.send(now, u, ids, true, superseding);
  }

  private send(
    now: number,
    u: number,
    ids: readonly number[],
    batched: boolean,
    superseding: boolean,
  ): void {
    const t = this.config.table;
    const k = ids.length;
    const raw = batched ? t.batchOverheadBytes(k) + k * this.entryBytes : this.fullBytes;
    const payload = this.config.deflate ? t.wireBytes(raw, k) : raw;
    this.saved.deflateBytes += raw - payload;
    if (batched) this.saved.batching += k - 1;
    const wire = wireBytesOf(payload);
    this.frames++;
    this.updates += k;
    this.wire += wire;
    this.host.sendFrame(now, u, ids, wire, superseding || this.config.conflation !== 'off');
  }

  /** Deliveries owed but waiting here (a batch, or a throttled update's users — counted once sent). */
  get waitingEntries(): number {
    return this.outbox.waiting;
  }

  /** The figures this module can give; the model fills in what it measures itself. */
  stats(elapsedS: number, users: number): Partial<ShapingStats> {
    const per = (x: number) => (elapsedS > 0 && users > 0 ? x / users / elapsedS : 0);
    return {
      messagesPerSecPerUser: per(this.frames),
      bytesPerSecPerUser: per(this.wire),
      updatesPerSecPerUser: per(this.updates),
      bytesPerUpdate: this.updates > 0 ? this.wire / this.updates : 0,
      framesSent: this.frames,
      updatesSent: this.updates,
      savedByStage: { ...this.saved },
      throttleBacklog: this.backlog,
      batch:
        this.config.batchWindowUs > 0
          ? {
              framesPerSec: elapsedS > 0 ? this.frames / elapsedS : 0,
              meanUpdatesPerFrame: this.frames > 0 ? this.updates / this.frames : 0,
              maxHoldMs: this.maxHoldUs / 1000,
            }
          : undefined,
    };
  }
}
