// Users who go away (close the app) and come back: who is away and when, and the offline mailbox they read on return.
import { KIND_BITS, type MessageTable } from '../../engine.ts';
import type { EventQueue } from '../../queue.ts';
import type { Rng } from '../../rng.ts';
import type { FlowCounts } from '../../types.ts';
import type { ClusterContext, ClusterTopology, RecoveryPath } from './context.ts';
import { EV_AWAY, EV_RETURN } from './events.ts';
import type { Hop1 } from './hop1.ts';
import type { Members } from './members.ts';
import type { Messages } from './messages.ts';

/** What presence uses of the other parts: the client's stream, to deliver from the mailbox. */
export interface PresenceParts {
  hop1: Pick<Hop1, 'recv' | 'acked' | 'send' | 'skipTo'>;
  members: Pick<Members, 'userChannel'>;
  messages: Pick<Messages, 'latestSeq' | 'channelLog' | 'owedBetween'>;
}

/**
 * The connections part closes and reopens the connections (EV_AWAY and EV_RETURN are its
 * events); this part keeps who is away, for the counts and the convergence check, and who comes
 * back, for the resume that follows.
 */
export class Presence {
  /** Away users: gone (app closed), counted as disconnected while away, back from a mailbox. */
  readonly away: Uint8Array;
  private readonly awayCounted: Uint8Array;
  private readonly returning: Uint8Array;
  awayNow = 0;
  /** Away users counted in `disconnectedNow` (they are not trying to reconnect). */
  awayDisconnected = 0;
  /** A hosted app's ear: told when a user closes the app and when it comes back. */
  onAway: ((now: number, u: number) => void) | null = null;
  onReturn: ((now: number, u: number) => void) | null = null;
  private readonly t: ClusterTopology;
  private readonly queue: EventQueue;
  private readonly msgs: MessageTable;
  private readonly flow: FlowCounts;
  private readonly paths: Record<RecoveryPath, number>;

  constructor(
    private readonly ctx: ClusterContext,
    private readonly parts: PresenceParts,
  ) {
    this.t = ctx.t;
    this.queue = ctx.queue;
    this.msgs = ctx.msgs;
    this.flow = ctx.flow;
    this.paths = ctx.paths;
    const U = ctx.t.users;
    this.away = new Uint8Array(U);
    this.awayCounted = new Uint8Array(U);
    this.returning = new Uint8Array(U);
  }

  /** Schedules who goes away and comes back, from the run's root stream. */
  start(root: Rng): void {
    const d = this.t.delivery;
    if (d.awayShare > 0) {
      // Who goes away, when (in the middle of the run) and for how long (exponential).
      const awayRng = root.fork('away');
      const durationUs = this.ctx.durationUs;
      for (let u = 0; u < this.t.users; u++) {
        if (awayRng.float() >= d.awayShare) continue;
        const at = Math.round(durationUs * (0.1 + 0.3 * awayRng.float()));
        const back = Math.round(at - d.awayMeanS * 1e6 * Math.log(1 - awayRng.float()));
        this.queue.push(at, (u << KIND_BITS) | EV_AWAY, 0);
        if (back <= durationUs)
          this.queue.push(Math.max(at + 1, back), (u << KIND_BITS) | EV_RETURN, 0);
      }
    }
  }

  /**
   * User u closes the app; `counted`: it was counted as disconnected already (between
   * connections), or is about to be. False if it was away already.
   */
  goAway(u: number, counted: boolean): boolean {
    if (this.away[u]) return false;
    this.away[u] = 1;
    this.awayNow++;
    if (counted) {
      this.awayCounted[u] = 1;
      this.awayDisconnected++;
    }
    this.onAway?.(this.ctx.clock.nowUs, u);
    return true;
  }

  /** User u comes back; `returning`: it had connected before (its next resume is a return). */
  comeBack(u: number, returning: boolean): boolean {
    if (!this.away[u]) return false;
    this.away[u] = 0;
    this.awayNow--;
    if (this.awayCounted[u]) this.awayDisconnected--;
    this.awayCounted[u] = 0;
    this.returning[u] = returning ? 1 : 0;
    this.onReturn?.(this.ctx.clock.nowUs, u);
    return true;
  }

  /**
   * The first resume after a return. With an offline mailbox the client reads it and the resume
   * is done (true); otherwise the usual resume rules follow (false).
   */
  resumeFromAway(now: number, u: number): boolean {
    if (!this.returning[u]) return false;
    this.returning[u] = 0;
    if (this.t.delivery.offline !== 'mailbox') return false;
    this.fromMailbox(now, u);
    return true;
  }

  /**
   * Back from being away with an offline mailbox: it kept the newest `mailboxLimit` updates
   * younger than `mailboxTtlS`; the client gets those, and what the mailbox dropped is lost.
   */
  private fromMailbox(now: number, u: number): void {
    const { hop1, messages } = this.parts;
    const c = this.parts.members.userChannel[u];
    const latest = messages.latestSeq[c] - 1;
    const from = hop1.recv[u] + 1;
    if (from > latest) return;
    const d = this.t.delivery;
    let keep = Math.max(from, latest - d.mailboxLimit + 1);
    const log = messages.channelLog[c];
    while (keep <= latest && now - this.msgs.createdUs[log[keep]] > d.mailboxTtlS * 1e6) keep++;
    if (keep > from) {
      this.flow.dropped += messages.owedBetween(c, from, keep - 1);
      hop1.recv[u] = keep - 1;
      hop1.skipTo(u, keep - 1);
    }
    hop1.acked[u] = Math.max(hop1.acked[u], hop1.recv[u]);
    this.paths.mailboxDelivery++;
    for (let q = keep; q <= latest; q++) hop1.send(now, u, log[q], true);
  }
}
