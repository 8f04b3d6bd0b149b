// A push provider (FCM or APNs) holding notifications for offline devices, by its documented rules.

/*
 * Sources (the providers' pages as stored copies, read for this module; paraphrased):
 *
 * FCM, collapsible and non-collapsible messages —
 *   https://firebase.google.com/docs/cloud-messaging/customize-messages/collapsible-message-types
 *   Non-collapsible: on Android up to 100 messages are stored without collapsing; reaching the limit
 *   discards every stored message, and back online the device gets a special "deleted" message so
 *   the app can do a full sync. Collapsible: a newer message with the same collapse_key replaces an
 *   undelivered older one; FCM stores at most four collapse keys per device and, past four, keeps
 *   some four without saying which. FCM does not guarantee delivery order.
 * FCM, lifespan —
 *   https://firebase.google.com/docs/cloud-messaging/customize-messages/setting-message-lifespan
 *   ttl is 0 to 2,419,200 s (28 days), four weeks when absent; ttl 0 is never stored, so a message
 *   that cannot be delivered at once is discarded ("now or never").
 * FCM, the deleted-messages signal —
 *   https://firebase.google.com/docs/cloud-messaging/unity/receive ("Messages Deleted": too many
 *   messages stored while the device was offline, or a device silent for a long time), and the FCM
 *   Data API field droppedTooManyPendingMessages
 *   https://pub.dev/documentation/firebaseapis/latest/fcmdata_v1beta1/GoogleFirebaseFcmDataV1beta1MessageOutcomePercents/droppedTooManyPendingMessages.html
 *   (more than 100 pending: OnDeletedMessages() is called instead of delivering them);
 *   https://firebase.blog/posts/2019/02/life-of-a-message/ (onDeletedMessages() on reconnection).
 * APNs —
 *   https://developer.apple.com/documentation/usernotifications/sending-notification-requests-to-apns
 *   (stored copy: https://developer.apple.com/tutorials/data/documentation/usernotifications/sending-notification-requests-to-apns.md)
 *   An undeliverable notification may be stored for 30 days or less, as apns-expiration says; only
 *   one notification per bundle ID is stored, in most cases the latest; apns-expiration 0 means one
 *   delivery attempt and no storage; APNs may reorder notifications. apns-collapse-id merges
 *   notifications the user sees into one (display, not storage: not modelled here). An Apple
 *   engineer restates the one-per-bundle-ID rule, which one is kept not being deterministic, at
 *   https://developer.apple.com/forums/thread/775455; the older guide's wording (only the most
 *   recent notification per device and app is kept) is quoted at
 *   https://super-unix.com/askdifferent/ios-how-long-do-apple-retain-notifications-to-be-pushed-to-ios-devices-until-they-expire/
 *
 * Where the documents are vague, this model assumes (each is a rule below or said at its place):
 * - FCM past four collapse keys: the key whose stored message was accepted longest ago is dropped
 *   (`collapseKeyOverflow: 'evict-oldest'`); 'drop-incoming' is the other choice.
 * - FCM's 101st non-collapsible message is discarded along with every stored message, collapsible
 *   ones included ("all stored messages"), and raises the deleted signal; the four-key slots do not
 *   count toward the 100.
 * - APNs always keeps the newest notification (Apple: in most cases); a notification with
 *   apns-expiration 0 sent to an offline device is dropped and leaves the stored one in place.
 * - APNs has no documented default lifetime; `defaultTtlUs` is the 30-day maximum.
 * - Both providers deliver what they hold in order of send time (the real ones may reorder).
 * - Not modelled: FCM's deletion for a device offline over about a month (its 28-day TTL expires
 *   everything first, only the signal would differ), throttling, priorities, doze.
 */

/** Which provider serves a device: FCM for Android, APNs for iOS. */
export type PushPlatform = 'fcm' | 'apns';

/**
 * One notification the chat server hands to the provider. Messages are kept by reference, never
 * copied, so they must not change after `send`.
 */
export interface PushMessage {
  readonly id: number;
  /** When the provider accepted it: its lifetime starts here. */
  readonly sentUs: number;
  /** FCM collapse_key (null: non-collapsible). APNs ignores it for storage: one slot per app. */
  readonly collapseKey: string | null;
  /** How long the provider may keep it undelivered (FCM ttl, APNs apns-expiration − send time). */
  readonly ttlUs: number;
}

/**
 * What became of a message on `send`: handed to the device at once, stored, stored in place of an
 * older message it collapsed, or dropped (expired on arrival, TTL 0 offline, or over a limit).
 */
export type PushOutcome = 'delivered' | 'stored' | 'collapsed' | 'dropped';

/**
 * Every message sent ends in exactly one count, or is still pending, so
 * sent = delivered + collapsed + expired + discarded + pending at any time.
 */
export interface PushDeviceStats {
  sent: number;
  delivered: number;
  /** Replaced, undelivered, by a newer message with the same key (APNs: any newer one). */
  collapsed: number;
  /** Outlived its TTL, including TTL 0 sent while offline. */
  expired: number;
  /** Thrown away by a storage limit: the 100-message overflow or a fifth collapse key. */
  discarded: number;
  /** Reconnections that told the app messages were deleted (FCM onDeletedMessages). */
  deletedSignals: number;
}

/** What a device gets when it comes back online. */
export interface PushReconnect {
  /** The messages the provider still held, in order of send time (ties by id). */
  readonly delivered: PushMessage[];
  /** FCM's deleted-messages signal: stored messages were discarded while the device was away. */
  readonly deletedMessages: boolean;
}

/** Which stored collapse key FCM gives up when a message with one key too many arrives. */
export type CollapseKeyOverflow = 'evict-oldest' | 'drop-incoming';

/** A provider's storage rules; FCM_RULES and APNS_RULES hold the documented values. */
export interface PushRules {
  /** The longest TTL the provider accepts; a longer one is refused as bad input. */
  readonly maxTtlUs: number;
  /** The TTL a request without one gets (for callers building messages). */
  readonly defaultTtlUs: number;
  /** True for APNs: every notification for the app shares one stored slot, whatever its key. */
  readonly coalesceAll: boolean;
  /** How many collapse keys may hold a stored message at once. */
  readonly maxCollapseKeys: number;
  /** What happens to a message with a collapse key beyond `maxCollapseKeys`. */
  readonly collapseKeyOverflow: CollapseKeyOverflow;
  /** How many non-collapsible messages may be stored; one more discards them all. */
  readonly maxNonCollapsible: number;
}

/** A bad argument: `field` names it, the message says what is allowed. */
export class PushInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'PushInputError';
  }
}

const SECOND_US = 1_000_000;
const DAY_US = 86_400 * SECOND_US;

/** Rules objects already checked and frozen: devices share them instead of copying. */
const sealed = new WeakSet<object>();

function seal(rules: PushRules): Readonly<PushRules> {
  const r = Object.freeze({ ...rules });
  sealed.add(r);
  return r;
}

/** FCM on Android, from the collapsible-message and lifespan pages. */
export const FCM_RULES: Readonly<PushRules> = seal({
  /** 2,419,200 s = 28 days, the documented maximum and default TTL. */
  maxTtlUs: 28 * DAY_US,
  defaultTtlUs: 28 * DAY_US,
  coalesceAll: false,
  /** Four collapsible messages per device at once, each under a different collapse key. */
  maxCollapseKeys: 4,
  /** Assumed: the documents say only that some four keys are kept. */
  collapseKeyOverflow: 'evict-oldest',
  /** On Android, 100 messages may be stored without collapsing. */
  maxNonCollapsible: 100,
});

/** APNs, from "Sending notification requests to APNs". */
export const APNS_RULES: Readonly<PushRules> = seal({
  /** Stored for at most 30 days, as apns-expiration says. */
  maxTtlUs: 30 * DAY_US,
  /** Assumed: Apple documents no default, so the maximum. */
  defaultTtlUs: 30 * DAY_US,
  /** One stored notification per bundle ID: one slot, whatever the key. */
  coalesceAll: true,
  maxCollapseKeys: 1,
  collapseKeyOverflow: 'evict-oldest',
  maxNonCollapsible: 0,
});

const RULE_KEYS = Object.keys(FCM_RULES) as (keyof PushRules)[];

function isCount(v: unknown, min: number): boolean {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
}

/**
 * A platform's rules with some overridden, checked and frozen. Build it once and pass the result
 * to every device: a device given this object shares it, one given a plain object builds its own.
 */
export function pushRules(
  platform: PushPlatform,
  overrides?: Partial<PushRules>,
): Readonly<PushRules> {
  const base = platform === 'fcm' ? FCM_RULES : platform === 'apns' ? APNS_RULES : undefined;
  if (base === undefined)
    throw new PushInputError('platform', `is 'fcm' or 'apns', not ${platform}`);
  if (overrides === undefined || Object.keys(overrides).length === 0) return base;
  for (const k of Object.keys(overrides))
    if (!RULE_KEYS.includes(k as keyof PushRules))
      throw new PushInputError(`rules.${k}`, `is not a rule (${RULE_KEYS.join(', ')})`);
  const r: PushRules = { ...base, ...overrides };
  if (!isCount(r.maxTtlUs, 1))
    throw new PushInputError('rules.maxTtlUs', `is a whole number of µs ≥ 1, not ${r.maxTtlUs}`);
  if (!isCount(r.defaultTtlUs, 0) || r.defaultTtlUs > r.maxTtlUs)
    throw new PushInputError('rules.defaultTtlUs', `is 0 to maxTtlUs, not ${r.defaultTtlUs}`);
  if (typeof r.coalesceAll !== 'boolean')
    throw new PushInputError('rules.coalesceAll', `is true or false, not ${r.coalesceAll}`);
  if (!isCount(r.maxCollapseKeys, 1))
    throw new PushInputError(
      'rules.maxCollapseKeys',
      `is a whole number ≥ 1, not ${r.maxCollapseKeys}`,
    );
  if (r.collapseKeyOverflow !== 'evict-oldest' && r.collapseKeyOverflow !== 'drop-incoming')
    throw new PushInputError(
      'rules.collapseKeyOverflow',
      `is 'evict-oldest' or 'drop-incoming', not ${r.collapseKeyOverflow}`,
    );
  if (!isCount(r.maxNonCollapsible, 0))
    throw new PushInputError(
      'rules.maxNonCollapsible',
      `is a whole number ≥ 0, not ${r.maxNonCollapsible}`,
    );
  return seal(r);
}

/** Whether storage may still deliver `m` at `nowUs`: its life is [sentUs, sentUs + ttlUs). */
function alive(m: PushMessage, nowUs: number): boolean {
  return nowUs < m.sentUs + m.ttlUs;
}

/** Keeps the messages still alive at `nowUs`, in place; returns how many it removed. */
function dropExpired(list: PushMessage[], nowUs: number): number {
  let kept = 0;
  for (let i = 0; i < list.length; i++) if (alive(list[i], nowUs)) list[kept++] = list[i];
  const removed = list.length - kept;
  list.length = kept;
  return removed;
}

/**
 * One app on one device, as its push provider sees it: what the provider holds for it while it is
 * offline, and the counts of what became of every message. The caller says, on each send, whether
 * the device is online, and calls `reconnect` when it comes back (before sending to it online, so
 * stored messages are not overtaken).
 *
 * Memory, so that a run can hold ~100,000 devices: the counts are fields of the device, not an
 * object of their own, rules are shared, and storage exists only while something is pending.
 * Measured on 64-bit Node 20 over 100,000 devices (the slot of the array holding each included):
 * an idle device ~130 bytes, ~145 once its clock leaves V8's small-integer range (about 2^31 µs,
 * 36 minutes: the time is then a boxed double); the first pending message adds ~56 bytes (a
 * one-slot array; the caller's message is kept by reference), ten pending ~200. An FCM device holds at most 104 messages, an APNs device 1. Rules
 * overridden with a plain object cost each device its own copy (~400 bytes): use `pushRules`.
 */
export class PushDevice {
  readonly rules: Readonly<PushRules>;
  private sent = 0;
  private delivered = 0;
  private collapsed = 0;
  private expired = 0;
  private discarded = 0;
  private deletedSignals = 0;
  /** The latest stored message per collapse key (APNs: the one slot), in order of acceptance. */
  private keyed: PushMessage[] | null = null;
  /** Stored non-collapsible messages, in order of acceptance. */
  private loose: PushMessage[] | null = null;
  /** The latest time seen: time never goes back. */
  private lastUs = 0;
  /** Messages were discarded since the last reconnection: the app is owed a deleted signal. */
  private deleted = false;

  constructor(
    readonly platform: PushPlatform,
    rules?: Partial<PushRules>,
  ) {
    this.rules =
      rules !== undefined && sealed.has(rules)
        ? (rules as Readonly<PushRules>)
        : pushRules(platform, rules);
  }

  /** A snapshot of the counts (a new object each time: the device keeps them as plain fields). */
  get stats(): PushDeviceStats {
    return {
      sent: this.sent,
      delivered: this.delivered,
      collapsed: this.collapsed,
      expired: this.expired,
      discarded: this.discarded,
      deletedSignals: this.deletedSignals,
    };
  }

  /**
   * The provider takes `msg` at `nowUs`. An online device gets it at once — unless it was sent
   * so long ago that it expired on the way (TTL 0 still gets its one immediate attempt at
   * `sentUs`). For an offline device it is stored under the platform's rules, or dropped.
   */
  send(msg: PushMessage, nowUs: number, online: boolean): PushOutcome {
    this.checkNow(nowUs, 'send');
    this.checkMessage(msg, nowUs);
    this.advance(nowUs);
    this.sent++;
    if (online) {
      if (nowUs === msg.sentUs || alive(msg, nowUs)) {
        this.delivered++;
        return 'delivered';
      }
      this.expired++;
      return 'dropped';
    }
    if (!alive(msg, nowUs)) {
      this.expired++;
      return 'dropped';
    }
    return this.rules.coalesceAll || msg.collapseKey !== null
      ? this.storeKeyed(msg)
      : this.storeLoose(msg);
  }

  /**
   * The device comes online at `nowUs`: it gets every message still alive, in order of send time
   * (ties by id), and the deleted signal if messages were discarded meanwhile.
   */
  reconnect(nowUs: number): PushReconnect {
    this.checkNow(nowUs, 'reconnect');
    this.advance(nowUs);
    const { keyed, loose } = this;
    const delivered = keyed === null ? (loose ?? []) : loose === null ? keyed : loose.concat(keyed);
    if (delivered.length > 1) delivered.sort((a, b) => a.sentUs - b.sentUs || a.id - b.id);
    this.keyed = null;
    this.loose = null;
    this.delivered += delivered.length;
    const deletedMessages = this.deleted;
    if (deletedMessages) this.deletedSignals++;
    this.deleted = false;
    return { delivered, deletedMessages };
  }

  /** How many messages the provider still holds at `nowUs` (dropping, and counting, any expired). */
  pending(nowUs: number): number {
    this.checkNow(nowUs, 'pending');
    this.advance(nowUs);
    return (this.keyed?.length ?? 0) + (this.loose?.length ?? 0);
  }

  /** A collapsible message (any message, on APNs) replaces its key's, or takes a new slot. */
  private storeKeyed(msg: PushMessage): PushOutcome {
    const keyed = this.keyed;
    if (keyed === null) {
      this.keyed = [msg];
      return 'stored';
    }
    const i = this.rules.coalesceAll
      ? 0
      : keyed.findIndex((m) => m.collapseKey === msg.collapseKey);
    let outcome: PushOutcome = 'stored';
    if (i >= 0) {
      keyed.splice(i, 1);
      this.collapsed++;
      outcome = 'collapsed';
    } else if (keyed.length >= this.rules.maxCollapseKeys) {
      this.discarded++;
      if (this.rules.collapseKeyOverflow === 'drop-incoming') return 'dropped';
      keyed.shift();
    }
    keyed.push(msg);
    return outcome;
  }

  /** A non-collapsible message is queued; the one past the limit discards everything stored. */
  private storeLoose(msg: PushMessage): PushOutcome {
    const held = this.loose?.length ?? 0;
    if (held >= this.rules.maxNonCollapsible) {
      this.discarded += held + (this.keyed?.length ?? 0) + 1;
      this.loose = null;
      this.keyed = null;
      this.deleted = true;
      return 'dropped';
    }
    if (this.loose === null) this.loose = [msg];
    else this.loose.push(msg);
    return 'stored';
  }

  /**
   * Moves the clock to `nowUs` and drops what has expired by then, so the limits count only live
   * messages. A scan of at most the 104 stored messages, and nothing for an idle device.
   */
  private advance(nowUs: number): void {
    this.lastUs = nowUs;
    if (this.keyed !== null) {
      this.expired += dropExpired(this.keyed, nowUs);
      if (this.keyed.length === 0) this.keyed = null;
    }
    if (this.loose !== null) {
      this.expired += dropExpired(this.loose, nowUs);
      if (this.loose.length === 0) this.loose = null;
    }
  }

  private checkNow(nowUs: number, verb: string): void {
    if (typeof nowUs !== 'number' || !Number.isSafeInteger(nowUs) || nowUs < 0)
      throw new PushInputError('nowUs', `${verb}: is a whole number of µs ≥ 0, not ${nowUs}`);
    if (nowUs < this.lastUs)
      throw new PushInputError(
        'nowUs',
        `${verb}: time went backwards, from ${this.lastUs} to ${nowUs} µs`,
      );
  }

  private checkMessage(msg: PushMessage, nowUs: number): void {
    if (typeof msg.id !== 'number' || !Number.isFinite(msg.id))
      throw new PushInputError('id', `is a number, not ${msg.id}`);
    if (typeof msg.sentUs !== 'number' || !Number.isSafeInteger(msg.sentUs) || msg.sentUs < 0)
      throw new PushInputError('sentUs', `is a whole number of µs ≥ 0, not ${msg.sentUs}`);
    if (msg.sentUs > nowUs)
      throw new PushInputError('sentUs', `is at most nowUs (${nowUs}), not ${msg.sentUs}`);
    const max = this.rules.maxTtlUs;
    if (typeof msg.ttlUs !== 'number' || !Number.isSafeInteger(msg.ttlUs) || msg.ttlUs < 0)
      throw new PushInputError('ttlUs', `is a whole number of µs ≥ 0, not ${msg.ttlUs}`);
    if (msg.ttlUs > max)
      throw new PushInputError(
        'ttlUs',
        `is at most ${max} µs (${max / DAY_US} days, the ${this.platform} maximum), not ${msg.ttlUs}`,
      );
    if (msg.collapseKey !== null && (typeof msg.collapseKey !== 'string' || msg.collapseKey === ''))
      throw new PushInputError(
        'collapseKey',
        `is null or a non-empty string, not ${JSON.stringify(msg.collapseKey)}`,
      );
  }
}
