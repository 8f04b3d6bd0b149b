// Who is connected where: the channel each user follows, each user's live connection, and each server's subscribers per channel.
import type { Rng } from '../../rng.ts';

export class Members {
  /** The one channel each user follows (fixed for the run). */
  readonly userChannel: Int32Array;
  /** The server of the user's current (or last) connection, -1 before the first. */
  readonly connServer: Int32Array;
  /** The user's connection id: frames, timeouts and detections of an older connection are void. */
  readonly connId: Int32Array;
  readonly online: Uint8Array;
  /** Per (server, channel): the first subscriber, then a doubly linked list through the users. */
  readonly memberHead: Int32Array;
  readonly memberNext: Int32Array;
  private readonly memberPrev: Int32Array;

  constructor(
    users: number,
    servers: number,
    private readonly channels: number,
    subs: Rng,
  ) {
    const U = users;
    this.userChannel = Int32Array.from({ length: U }, () => subs.int(channels));
    this.connServer = new Int32Array(U).fill(-1);
    this.connId = new Int32Array(U);
    this.online = new Uint8Array(U);
    this.memberHead = new Int32Array(servers * channels).fill(-1);
    this.memberNext = new Int32Array(U).fill(-1);
    this.memberPrev = new Int32Array(U).fill(-1);
  }

  /** Users of server s following channel c, newest first (calls `each` for each). */
  forEach(s: number, c: number, each: (u: number) => void): void {
    for (let u = this.memberHead[s * this.channels + c]; u >= 0; u = this.memberNext[u]) each(u);
  }

  /** Whether user u holds a live connection on server s now. */
  connectedTo(u: number, s: number): boolean {
    return this.online[u] === 1 && this.connServer[u] === s;
  }

  join(u: number, s: number): void {
    const k = s * this.channels + this.userChannel[u];
    const head = this.memberHead[k];
    this.memberNext[u] = head;
    this.memberPrev[u] = -1;
    if (head >= 0) this.memberPrev[head] = u;
    this.memberHead[k] = u;
  }

  leave(u: number, s: number): void {
    const k = s * this.channels + this.userChannel[u];
    const prev = this.memberPrev[u];
    const next = this.memberNext[u];
    if (prev >= 0) this.memberNext[prev] = next;
    else if (this.memberHead[k] === u) this.memberHead[k] = next;
    if (next >= 0) this.memberPrev[next] = prev;
    this.memberNext[u] = -1;
    this.memberPrev[u] = -1;
  }
}
