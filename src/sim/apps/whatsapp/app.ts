// WhatsApp on the cluster fabric: chats as channels, presence, store-and-forward for offline recipients, receipts and push.
import { ScenarioError } from '../../../scenario/errors.ts';
import { LatencyHistogram } from '../../histogram.ts';
import type { Rng } from '../../rng.ts';
import type { AppResult, ClusterAppHost, ClusterCaseApp, FabricSummary } from '../app.ts';
import { whatsappFigures } from './figures.ts';
import { PushDevice, pushRules, type PushMessage } from './push.ts';
import type { WhatsAppSpec } from './schema.ts';

/** The app's event kinds (in `word1`; `arg` is the user, the message or the copy). */
const EV_SEND = 0;
const EV_ACCEPT = 1;
const EV_READ = 2;

/** A copy's flags: its recipient was offline when the server took the message (held in the store). */
const HELD = 1;

/** A typed array twice as long, its old contents kept and the rest filled with `fill`. */
function grown<T extends Int32Array | Float64Array | Uint8Array>(a: T, fill: number): T {
  const b = new (a.constructor as new (n: number) => T)(Math.max(1024, a.length * 2));
  b.set(a);
  b.fill(fill, a.length);
  return b;
}

/** One recipient's copy of a message, as a checker reads it (times in µs, -1: not yet). */
export interface CopyRecord {
  message: number;
  sender: number;
  recipient: number;
  held: boolean;
  sentUs: number;
  appliedUs: number;
  deliveredUs: number;
  readUs: number;
  /** How often the recipient's client applied it (the fabric's once-only rule: 0 or 1). */
  applies: number;
  /** The recipient's client moved past it without applying it (the store's limit or TTL). */
  discarded: boolean;
}

/** The counts behind the JSON and the figures. */
export interface WhatsAppStats {
  chats: { direct: number; groups: number; users: number };
  messages: { attempted: number; notSentOffline: number; sent: number; perSec: number };
  copies: { sent: number; delivered: number; discarded: number; held: number };
  store: {
    held: number;
    deliveredAfterReconnect: number;
    deleted: number;
    discarded: number;
    stillHeld: number;
  };
  receipts: { sent: number; delivered: number; read: number };
  push: {
    sent: number;
    delivered: number;
    collapsed: number;
    discarded: number;
    expired: number;
    pending: number;
    deletedSignals: number;
  };
  presence: { online: number; offline: number; reconnecting: number; meanLastSeenAgoS: number };
  /** Devices whose offline spell lasted at least `offlineForS` and ended in the run. */
  offlineCohort: {
    devices: number;
    forS: number;
    owed: number;
    receivedAfterReconnect: number;
    lost: number;
    stillHeld: number;
    push: { sent: number; delivered: number; collapsed: number; discarded: number };
  };
  onlineDeliveryMs: ReturnType<LatencyHistogram['summary']>;
  receiptMs: { delivered: number; read: number };
}

export class WhatsAppApp implements ClusterCaseApp {
  readonly source = {
    label: 'Chat senders',
    role: 'Users send chat messages; the chat servers route them to the chat’s members',
  };
  private host!: ClusterAppHost;
  /** The app's stream for send times and read delays (forked from the host's). */
  private rng!: Rng;
  /** Per user: its place in its chat, and its phone's push provider. */
  private pos = new Int32Array(0);
  private devices: PushDevice[] = [];
  /** When the user closed the app (-1: open), and the length of its last finished spell away. */
  private awaySinceUs = new Float64Array(0);
  private lastSpellUs = new Float64Array(0);
  private chatSize = new Int32Array(0);
  private direct = 0;
  private groups = 0;
  // Messages (by the app's index).
  private msgCount = 0;
  private msgSender = new Int32Array(1024);
  private msgChat = new Int32Array(1024);
  private msgCreatedUs = new Float64Array(1024);
  private msgSentUs = new Float64Array(1024);
  private msgFabric = new Int32Array(1024);
  private msgCopyBase = new Int32Array(1024);
  /** Fabric message id → the app's message (-1: not the app's). */
  private fabricToMsg = new Int32Array(1024).fill(-1);
  // Copies (one per chat member; the sender's own slot is unused).
  private copyCount = 0;
  private copyUser = new Int32Array(1024);
  private copyMsg = new Int32Array(1024);
  private copyFlags = new Uint8Array(1024);
  private copyAppliedUs = new Float64Array(1024).fill(-1);
  private copyDeliveredUs = new Float64Array(1024).fill(-1);
  private copyReadUs = new Float64Array(1024).fill(-1);
  private copyApplies = new Uint8Array(1024);
  private attempted = 0;
  private notSentOffline = 0;
  private copiesSent = 0;
  private heldEver = 0;
  private deliveredAfterReconnect = 0;
  private deleted = 0;
  private readCount = 0;
  private deliveredReceipts = 0;
  private receiptDeliveredSumUs = 0;
  private receiptReadSumUs = 0;
  private readonly onlineLatency = new LatencyHistogram();

  constructor(private readonly spec: WhatsAppSpec) {}

  start(host: ClusterAppHost): void {
    this.host = host;
    this.rng = host.rng.fork('send');
    const U = host.users;
    this.layoutChats(host);
    this.pos = new Int32Array(U);
    const fill = new Int32Array(this.chatSize.length);
    for (let u = 0; u < U; u++) this.pos[u] = fill[host.userChannel[u]]++;
    // Phones: a share on Android (FCM), the rest on iOS (APNs); one rules object per platform.
    const fcm = pushRules('fcm');
    const apns = pushRules('apns');
    const platforms = host.rng.fork('platform');
    for (let u = 0; u < U; u++)
      this.devices.push(
        platforms.float() < this.spec.push.androidShare
          ? new PushDevice('fcm', fcm)
          : new PushDevice('apns', apns),
      );
    this.awaySinceUs = new Float64Array(U).fill(-1);
    this.lastSpellUs = new Float64Array(U);
    this.scheduleAbsences(host);
    // Every user's first message (Poisson per user).
    for (let u = 0; u < U; u++) this.scheduleSend(u, 0);
  }

  /**
   * Lays out the chats: a shuffled share of users in pairs (1:1 chats), the rest in groups of
   * groupMin … groupMax; each chat is a channel (the fabric gives each user one channel).
   */
  private layoutChats(host: ClusterAppHost): void {
    const U = host.users;
    const rng = host.rng.fork('chats');
    const order = Int32Array.from({ length: U }, (_, i) => i);
    for (let i = U - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const x = order[i];
      order[i] = order[j];
      order[j] = x;
    }
    const { directShare, groupMin, groupMax } = this.spec.chats;
    const sizes: number[] = [];
    const pairs = Math.floor((U * directShare) / 2);
    for (let i = 0; i < pairs; i++) sizes.push(2);
    this.direct = pairs;
    let left = U - 2 * pairs;
    while (left > 0) {
      const n = Math.min(left, groupMin + rng.int(groupMax - groupMin + 1));
      if (n < 2 && sizes.length > 0) sizes[sizes.length - 1] += n;
      else sizes.push(n);
      left -= n;
    }
    this.groups = sizes.length - pairs;
    if (sizes.length > host.channels)
      throw new ScenarioError(
        'topology.channels',
        `these chats need ${sizes.length} channels (one per chat), not ${host.channels}`,
      );
    this.chatSize = Int32Array.from(sizes);
    let i = 0;
    for (let c = 0; c < sizes.length; c++)
      for (let k = 0; k < sizes[c]; k++) host.userChannel[order[i++]] = c;
  }

  /**
   * Who closes the app and for how long: the probe devices at `probeAtS` for exactly
   * `offlineForS`, and a share of the others once, between 10% and 40% of the run, for an
   * exponential time. A closed app is a phone offline: push waits at the provider.
   */
  private scheduleAbsences(host: ClusterAppHost): void {
    const o = this.spec.offline;
    const U = host.users;
    const probe = new Uint8Array(U);
    const n = Math.min(o.probeDevices, U);
    for (let i = 0; i < n; i++) {
      const u = Math.floor((i * U) / n);
      probe[u] = 1;
      const at = Math.round(o.probeAtS * 1e6);
      host.goAway(u, at, at + Math.round(o.offlineForS * 1e6));
    }
    const rng = host.rng.fork('away');
    for (let u = 0; u < U; u++) {
      if (rng.float() >= o.share || probe[u]) continue;
      const at = Math.round(host.durationUs * (0.1 + 0.3 * rng.float()));
      host.goAway(u, at, Math.round(at - o.meanS * 1e6 * Math.log(1 - rng.float())));
    }
  }

  private scheduleSend(u: number, now: number): void {
    const rate = this.spec.messages.perUserPerMin / 60;
    if (rate <= 0 || this.chatSize[this.host.userChannel[u]] < 2) return;
    const at = Math.max(now + 1, Math.round(now - (1e6 / rate) * Math.log(1 - this.rng.float())));
    this.host.schedule(at, u, EV_SEND);
  }

  handle(now: number, arg: number, kind: number): void {
    if (kind === EV_SEND) return this.onSend(now, arg);
    if (kind === EV_ACCEPT) return this.onAccept(now, arg);
    if (kind === EV_READ) return this.onRead(now, arg);
  }

  /** The user taps send: only with the app open and connected; the message goes up its link. */
  private onSend(now: number, u: number): void {
    this.scheduleSend(u, now);
    this.attempted++;
    if (!this.host.connected(u)) {
      this.notSentOffline++;
      return;
    }
    const k = this.msgCount++;
    if (k === this.msgSender.length) {
      this.msgSender = grown(this.msgSender, 0);
      this.msgChat = grown(this.msgChat, 0);
      this.msgCreatedUs = grown(this.msgCreatedUs, 0);
      this.msgSentUs = grown(this.msgSentUs, 0);
      this.msgFabric = grown(this.msgFabric, -1);
      this.msgCopyBase = grown(this.msgCopyBase, 0);
    }
    this.msgSender[k] = u;
    this.msgChat[k] = this.host.userChannel[u];
    this.msgCreatedUs[k] = now;
    this.msgSentUs[k] = -1;
    this.host.schedule(Math.round(now + this.host.uplinkUs(u)), k, EV_ACCEPT);
  }

  /**
   * The chat server accepts the message (the sender's single tick: "sent") and publishes it on
   * the chat's channel. A member without a live connection has its copy held in the store and a
   * push sent through its phone's provider, which stores it while the phone is offline.
   */
  private onAccept(now: number, k: number): void {
    const host = this.host;
    const c = this.msgChat[k];
    const sender = this.msgSender[k];
    this.msgSentUs[k] = now;
    const id = host.publish(now, c, sender);
    while (id >= this.fabricToMsg.length) this.fabricToMsg = grown(this.fabricToMsg, -1);
    this.fabricToMsg[id] = k;
    this.msgFabric[k] = id;
    const size = this.chatSize[c];
    const base = this.copyCount;
    this.msgCopyBase[k] = base;
    this.copyCount += size;
    while (this.copyCount > this.copyUser.length) {
      this.copyUser = grown(this.copyUser, -1);
      this.copyMsg = grown(this.copyMsg, -1);
      this.copyFlags = grown(this.copyFlags, 0);
      this.copyAppliedUs = grown(this.copyAppliedUs, -1);
      this.copyDeliveredUs = grown(this.copyDeliveredUs, -1);
      this.copyReadUs = grown(this.copyReadUs, -1);
      this.copyApplies = grown(this.copyApplies, 0);
    }
    for (let i = base; i < base + size; i++) {
      this.copyUser[i] = -1;
      this.copyMsg[i] = k;
    }
    const ttlUs = Math.round(this.spec.push.ttlS * 1e6);
    const collapseKey = this.spec.push.kind === 'collapsible' ? `chat-${c}` : null;
    // The members are found through their places (pos) — the chat is a channel of `size` users.
    this.forMembers(c, (m) => {
      const p = base + this.pos[m];
      this.copyUser[p] = m;
      if (m === sender) return;
      this.copiesSent++;
      if (host.connected(m)) return;
      this.copyFlags[p] = HELD;
      this.heldEver++;
      const push: PushMessage = { id: p, sentUs: now, collapseKey, ttlUs };
      this.devices[m].send(push, now, !host.away(m));
    });
  }

  /** Members of chat c, in user order (a scan of the chat's users through a lazily built index). */
  private members: Int32Array | null = null;
  private memberStart: Int32Array | null = null;
  private forMembers(c: number, each: (u: number) => void): void {
    if (this.members === null || this.memberStart === null) {
      const ch = this.host.userChannel;
      const C = this.chatSize.length;
      const start = new Int32Array(C + 1);
      for (let c2 = 0; c2 < C; c2++) start[c2 + 1] = start[c2] + this.chatSize[c2];
      const list = new Int32Array(this.host.users);
      for (let u = 0; u < this.host.users; u++) list[start[ch[u]] + this.pos[u]] = u;
      this.members = list;
      this.memberStart = start;
    }
    for (let i = this.memberStart[c]; i < this.memberStart[c + 1]; i++) each(this.members[i]);
  }

  /** The copy of fabric message `id` for user u, or -1 (not the app's, or the sender's own). */
  private copyOf(u: number, id: number): number {
    const k = id < this.fabricToMsg.length ? this.fabricToMsg[id] : -1;
    if (k < 0 || this.msgSender[k] === u) return -1;
    return this.msgCopyBase[k] + this.pos[u];
  }

  /** The recipient's client shows the message; it is read after a while if the app stays open. */
  applied(now: number, u: number, id: number): void {
    const p = this.copyOf(u, id);
    if (p < 0) return;
    this.copyApplies[p]++;
    if (this.copyAppliedUs[p] >= 0) return;
    this.copyAppliedUs[p] = now;
    const k = this.fabricToMsg[id];
    if (this.copyFlags[p] & HELD) this.deliveredAfterReconnect++;
    else this.onlineLatency.record(now - this.msgCreatedUs[k]);
    this.scheduleRead(p, now);
  }

  /** The client's ack reaches the server: the double tick ("delivered"); a held copy is deleted. */
  acked(now: number, u: number, id: number): void {
    const p = this.copyOf(u, id);
    if (p < 0 || this.copyAppliedUs[p] < 0 || this.copyDeliveredUs[p] >= 0) return;
    this.copyDeliveredUs[p] = now;
    this.deliveredReceipts++;
    this.receiptDeliveredSumUs += now - this.msgSentUs[this.fabricToMsg[id]];
    if (this.copyFlags[p] & HELD) this.deleted++;
  }

  private scheduleRead(p: number, now: number): void {
    const mean = this.spec.messages.readDelayMeanS * 1e6;
    this.host.schedule(
      Math.max(now + 1, Math.round(now - mean * Math.log(1 - this.rng.float()))),
      p,
      EV_READ,
    );
  }

  /**
   * The user looks at the chat: read ("blue ticks") once the delivered receipt is in and the app
   * is open; otherwise it looks again later.
   */
  private onRead(now: number, p: number): void {
    if (this.copyReadUs[p] >= 0) return;
    if (this.copyDeliveredUs[p] < 0 || !this.host.connected(this.copyUser[p]))
      return this.scheduleRead(p, now);
    this.copyReadUs[p] = now;
    this.readCount++;
    this.receiptReadSumUs += now - this.msgSentUs[this.copyMsg[p]];
  }

  wentAway(now: number, u: number): void {
    this.awaySinceUs[u] = now;
  }

  /** Back: the phone is online again, so its provider hands over what it held. */
  cameBack(now: number, u: number): void {
    if (this.awaySinceUs[u] >= 0) this.lastSpellUs[u] = now - this.awaySinceUs[u];
    this.awaySinceUs[u] = -1;
    this.devices[u].reconnect(now);
  }

  /** Every copy as a checker reads it (tests). */
  copies(): CopyRecord[] {
    const out: CopyRecord[] = [];
    for (let k = 0; k < this.msgCount; k++) {
      if (this.msgSentUs[k] < 0) continue;
      const base = this.msgCopyBase[k];
      const size = this.chatSize[this.msgChat[k]];
      for (let p = base; p < base + size; p++) {
        const u = this.copyUser[p];
        if (u === this.msgSender[k]) continue;
        out.push({
          message: k,
          sender: this.msgSender[k],
          recipient: u,
          held: (this.copyFlags[p] & HELD) !== 0,
          sentUs: this.msgSentUs[k],
          appliedUs: this.copyAppliedUs[p],
          deliveredUs: this.copyDeliveredUs[p],
          readUs: this.copyReadUs[p],
          applies: this.copyApplies[p],
          discarded: this.isDiscarded(k, p),
        });
      }
    }
    return out;
  }

  /** Not applied, yet the client has moved past it: the store (or the fabric) gave it up. */
  private isDiscarded(k: number, p: number): boolean {
    if (this.copyAppliedUs[p] >= 0) return false;
    const seq = this.host.msgSeq(this.msgFabric[k]);
    return seq >= 0 && this.host.clientSeq(this.copyUser[p]) >= seq;
  }

  /** The last spell away of user u, if it lasted at least `forUs` and ended. */
  private inCohort(u: number, forUs: number): boolean {
    return this.awaySinceUs[u] < 0 && this.lastSpellUs[u] >= forUs;
  }

  stats(nowUs: number): WhatsAppStats {
    const host = this.host;
    const U = host.users;
    const forUs = Math.round(this.spec.offline.offlineForS * 1e6);
    const cohort = new Uint8Array(U);
    let cohortDevices = 0;
    for (let u = 0; u < U; u++)
      if (this.inCohort(u, forUs)) {
        cohort[u] = 1;
        cohortDevices++;
      }
    let delivered = 0;
    let discarded = 0;
    let held = 0;
    let storeDiscarded = 0;
    let stillHeld = 0;
    const c = { owed: 0, received: 0, lost: 0, held: 0 };
    for (let k = 0; k < this.msgCount; k++) {
      if (this.msgSentUs[k] < 0) continue;
      const base = this.msgCopyBase[k];
      const size = this.chatSize[this.msgChat[k]];
      for (let p = base; p < base + size; p++) {
        const u = this.copyUser[p];
        if (u === this.msgSender[k]) continue;
        const isHeld = (this.copyFlags[p] & HELD) !== 0;
        const state =
          this.copyAppliedUs[p] >= 0 ? 'delivered' : this.isDiscarded(k, p) ? 'discarded' : 'held';
        if (state === 'delivered') delivered++;
        else if (state === 'discarded') discarded++;
        else held++;
        if (isHeld && state === 'discarded') storeDiscarded++;
        if (isHeld && state === 'held') stillHeld++;
        if (isHeld && cohort[u]) {
          c.owed++;
          if (state === 'delivered') c.received++;
          else if (state === 'discarded') c.lost++;
          else c.held++;
        }
      }
    }
    const push = {
      sent: 0,
      delivered: 0,
      collapsed: 0,
      discarded: 0,
      expired: 0,
      pending: 0,
      deletedSignals: 0,
    };
    const cohortPush = { sent: 0, delivered: 0, collapsed: 0, discarded: 0 };
    let online = 0;
    let offline = 0;
    let reconnecting = 0;
    let lastSeenSumUs = 0;
    for (let u = 0; u < U; u++) {
      const d = this.devices[u];
      // Pending first: it counts what expired by now into the device's stats.
      push.pending += d.pending(nowUs);
      const s = d.stats;
      push.sent += s.sent;
      push.delivered += s.delivered;
      push.collapsed += s.collapsed;
      push.discarded += s.discarded;
      push.expired += s.expired;
      push.deletedSignals += s.deletedSignals;
      if (cohort[u]) {
        cohortPush.sent += s.sent;
        cohortPush.delivered += s.delivered;
        cohortPush.collapsed += s.collapsed;
        cohortPush.discarded += s.discarded + s.expired;
      }
      // Presence as the chat's members see it: online, offline (last seen when it closed the app).
      if (host.away(u)) {
        offline++;
        lastSeenSumUs += nowUs - this.awaySinceUs[u];
      } else if (host.connected(u)) online++;
      else reconnecting++;
    }
    const on = this.onlineLatency.summary();
    const elapsedS = nowUs / 1e6;
    return {
      chats: { direct: this.direct, groups: this.groups, users: U },
      messages: {
        attempted: this.attempted,
        notSentOffline: this.notSentOffline,
        sent: this.msgCount,
        perSec: elapsedS > 0 ? this.msgCount / elapsedS : 0,
      },
      copies: { sent: this.copiesSent, delivered, discarded, held },
      store: {
        held: this.heldEver,
        deliveredAfterReconnect: this.deliveredAfterReconnect,
        deleted: this.deleted,
        discarded: storeDiscarded,
        stillHeld,
      },
      receipts: { sent: this.copiesSent, delivered: this.deliveredReceipts, read: this.readCount },
      push,
      presence: {
        online,
        offline,
        reconnecting,
        meanLastSeenAgoS: offline > 0 ? lastSeenSumUs / offline / 1e6 : 0,
      },
      offlineCohort: {
        devices: cohortDevices,
        forS: this.spec.offline.offlineForS,
        owed: c.owed,
        receivedAfterReconnect: c.received,
        lost: c.lost,
        stillHeld: c.held,
        push: cohortPush,
      },
      onlineDeliveryMs: on,
      receiptMs: {
        delivered:
          this.deliveredReceipts > 0
            ? this.receiptDeliveredSumUs / this.deliveredReceipts / 1e3
            : 0,
        read: this.readCount > 0 ? this.receiptReadSumUs / this.readCount / 1e3 : 0,
      },
    };
  }

  result(fabric: FabricSummary): AppResult {
    const s = this.stats(fabric.nowUs);
    return {
      guideFigures: whatsappFigures(this.spec, s),
      chats: s.chats,
      messages: s.messages,
      copies: s.copies,
      store: s.store,
      receipts: s.receipts,
      push: s.push,
      presence: s.presence,
      offlineCohort: s.offlineCohort,
      onlineDeliveryMs: s.onlineDeliveryMs,
      receiptMs: s.receiptMs,
    };
  }

  dispose(): void {
    this.onlineLatency.destroy();
  }
}
