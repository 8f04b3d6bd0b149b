// The modelled push providers (FCM, APNs): storage for offline devices, limits, expiry and bad input.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  APNS_RULES,
  FCM_RULES,
  PushDevice,
  PushInputError,
  pushRules,
  type PushDeviceStats,
  type PushMessage,
  type PushOutcome,
  type PushPlatform,
  type PushRules,
} from '../../src/sim/apps/whatsapp/push.ts';

const SECOND = 1_000_000;
const DAY = 86_400 * SECOND;

/** Builds messages with ids 1, 2, 3 … so each test reads on its own. */
function messages(): (sentUs: number, collapseKey?: string | null, ttlUs?: number) => PushMessage {
  let id = 0;
  return (sentUs, collapseKey = null, ttlUs = DAY) => ({ id: ++id, sentUs, collapseKey, ttlUs });
}

function ids(list: readonly PushMessage[]): number[] {
  return list.map((m) => m.id);
}

/** Every message is in exactly one count, or still pending. */
function accounted(s: PushDeviceStats, pending: number): number {
  return s.delivered + s.collapsed + s.expired + s.discarded + pending;
}

/** The field a bad call names. */
function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PushInputError);
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).message.startsWith(`${(e as PushInputError).field}:`)).toBe(true);
    return (e as PushInputError).field;
  }
  throw new Error('expected a PushInputError');
}

describe('push: the documented numbers', () => {
  it('FCM: 4 collapse keys, 100 non-collapsible, TTL up to and by default 28 days', () => {
    expect(FCM_RULES.maxCollapseKeys).toBe(4);
    expect(FCM_RULES.maxNonCollapsible).toBe(100);
    expect(FCM_RULES.maxTtlUs).toBe(2_419_200 * SECOND);
    expect(FCM_RULES.defaultTtlUs).toBe(2_419_200 * SECOND);
    expect(FCM_RULES.coalesceAll).toBe(false);
    expect(FCM_RULES.collapseKeyOverflow).toBe('evict-oldest');
  });

  it('APNs: one stored notification per app, kept at most 30 days', () => {
    expect(APNS_RULES.coalesceAll).toBe(true);
    expect(APNS_RULES.maxCollapseKeys).toBe(1);
    expect(APNS_RULES.maxTtlUs).toBe(30 * DAY);
    expect(Object.isFrozen(FCM_RULES) && Object.isFrozen(APNS_RULES)).toBe(true);
  });

  it('devices share the platform rules and a pushRules object instead of copying them', () => {
    expect(new PushDevice('fcm').rules).toBe(FCM_RULES);
    expect(new PushDevice('apns').rules).toBe(APNS_RULES);
    const r = pushRules('fcm', { maxCollapseKeys: 2 });
    expect(new PushDevice('fcm', r).rules).toBe(r);
    expect(new PushDevice('fcm', r).rules.maxCollapseKeys).toBe(2);
    expect(new PushDevice('fcm', { maxCollapseKeys: 3 }).rules.maxNonCollapsible).toBe(100);
  });
});

describe.each<PushPlatform>(['fcm', 'apns'])('push (%s): online and offline', (platform) => {
  it('an online send is delivered at once and stored nowhere', () => {
    const m = messages();
    const d = new PushDevice(platform);
    expect(d.send(m(0), 0, true)).toBe('delivered');
    expect(d.send(m(10, 'chat'), 10, true)).toBe('delivered');
    expect(d.pending(10)).toBe(0);
    expect(d.stats).toEqual({
      sent: 2,
      delivered: 2,
      collapsed: 0,
      expired: 0,
      discarded: 0,
      deletedSignals: 0,
    });
    expect(d.reconnect(20)).toEqual({ delivered: [], deletedMessages: false });
  });

  it('TTL 0 is now or never: delivered online, dropped (expired) offline', () => {
    const m = messages();
    const d = new PushDevice(platform);
    expect(d.send(m(5, null, 0), 5, true)).toBe('delivered');
    expect(d.send(m(6, null, 0), 6, false)).toBe('dropped');
    expect(d.send(m(7, 'k', 0), 7, false)).toBe('dropped');
    expect(d.pending(7)).toBe(0);
    expect(d.reconnect(7).delivered).toEqual([]);
    expect(d.stats).toMatchObject({ sent: 3, delivered: 1, expired: 2 });
  });

  it('a stored message expires exactly TTL after it was sent: alive at sent + TTL − 1 µs', () => {
    const m = messages();
    const early = new PushDevice(platform);
    const a = m(100, null, 50);
    expect(early.send(a, 100, false)).toBe('stored');
    expect(early.pending(149)).toBe(1);
    expect(early.reconnect(149).delivered).toEqual([a]);
    expect(early.stats).toMatchObject({ delivered: 1, expired: 0 });

    const late = new PushDevice(platform);
    expect(late.send(m(100, null, 50), 100, false)).toBe('stored');
    expect(late.reconnect(150).delivered).toEqual([]);
    expect(late.stats).toMatchObject({ delivered: 0, expired: 1 });
  });

  it('pending counts expiry as it finds it; the maximum TTL is accepted and lasts that long', () => {
    const m = messages();
    const d = new PushDevice(platform);
    const max = d.rules.maxTtlUs;
    expect(d.send(m(0, null, max), 0, false)).toBe('stored');
    expect(d.pending(max - 1)).toBe(1);
    expect(d.pending(max)).toBe(0);
    expect(d.stats.expired).toBe(1);
  });

  it('a message that outlived its TTL before it was handed over is dropped even online', () => {
    const m = messages();
    const d = new PushDevice(platform);
    expect(d.send(m(0, null, 10), 10, true)).toBe('dropped');
    expect(d.send(m(0, null, 11), 10, true)).toBe('delivered');
    expect(d.send(m(0, null, 0), 10, true)).toBe('dropped');
    expect(d.stats).toMatchObject({ sent: 3, delivered: 1, expired: 2 });
  });
});

describe('push (fcm): collapsible messages', () => {
  it('a newer message with the same collapse key replaces the stored one', () => {
    const m = messages();
    const d = new PushDevice('fcm');
    const [a1, b1, a2, a3] = [m(0, 'a'), m(1, 'b'), m(2, 'a'), m(3, 'a')];
    expect(d.send(a1, 0, false)).toBe('stored');
    expect(d.send(b1, 1, false)).toBe('stored');
    expect(d.send(a2, 2, false)).toBe('collapsed');
    expect(d.send(a3, 3, false)).toBe('collapsed');
    expect(d.pending(3)).toBe(2);
    expect(ids(d.reconnect(4).delivered)).toEqual([b1.id, a3.id]);
    expect(d.stats).toMatchObject({ sent: 4, delivered: 2, collapsed: 2, discarded: 0 });
  });

  it('a fifth collapse key evicts the key stored longest ago (the assumed reading of "keeps four")', () => {
    const m = messages();
    const d = new PushDevice('fcm');
    const [a, b, c, dd] = [m(0, 'a'), m(1, 'b'), m(2, 'c'), m(3, 'd')];
    for (const x of [a, b, c, dd]) expect(d.send(x, x.sentUs, false)).toBe('stored');
    const a2 = m(4, 'a'); // refreshes a: b is now the oldest key
    expect(d.send(a2, 4, false)).toBe('collapsed');
    const e = m(5, 'e');
    expect(d.send(e, 5, false)).toBe('stored');
    expect(d.pending(5)).toBe(4);
    expect(ids(d.reconnect(6).delivered)).toEqual([c.id, dd.id, a2.id, e.id]);
    expect(d.stats).toMatchObject({ sent: 6, delivered: 4, collapsed: 1, discarded: 1 });
    expect(d.stats.deletedSignals).toBe(0);
  });

  it("with 'drop-incoming', the fifth key's message is dropped and the four stay", () => {
    const m = messages();
    const d = new PushDevice('fcm', { collapseKeyOverflow: 'drop-incoming' });
    const four = [m(0, 'a'), m(1, 'b'), m(2, 'c'), m(3, 'd')];
    for (const x of four) d.send(x, x.sentUs, false);
    expect(d.send(m(4, 'e'), 4, false)).toBe('dropped');
    expect(d.send(m(5, 'a'), 5, false)).toBe('collapsed');
    expect(ids(d.reconnect(6).delivered)).toEqual([2, 3, 4, 6]);
    expect(d.stats).toMatchObject({ sent: 6, delivered: 4, collapsed: 1, discarded: 1 });
  });

  it('an expired key frees its slot, so a fifth key then evicts nothing', () => {
    const m = messages();
    const d = new PushDevice('fcm');
    d.send(m(0, 'a', 10), 0, false);
    for (const k of ['b', 'c', 'd']) d.send(m(1, k), 1, false);
    expect(d.send(m(10, 'e'), 10, false)).toBe('stored');
    expect(d.pending(10)).toBe(4);
    expect(d.stats).toMatchObject({ expired: 1, discarded: 0 });
  });
});

describe('push (fcm): non-collapsible messages', () => {
  it('stores 100; the 101st discards them all and the app is told on reconnection', () => {
    const m = messages();
    const d = new PushDevice('fcm');
    for (let i = 0; i < 100; i++) expect(d.send(m(i), i, false)).toBe('stored');
    expect(d.pending(99)).toBe(100);
    expect(d.send(m(100), 100, false)).toBe('dropped');
    expect(d.pending(100)).toBe(0);
    expect(d.stats).toMatchObject({ sent: 101, discarded: 101, deletedSignals: 0 });
    // Storing starts again after the overflow; the signal waits for the reconnection.
    const after = m(101);
    expect(d.send(after, 101, false)).toBe('stored');
    const r = d.reconnect(200);
    expect(r.deletedMessages).toBe(true);
    expect(r.delivered).toEqual([after]);
    expect(d.stats).toMatchObject({ delivered: 1, discarded: 101, deletedSignals: 1 });
    expect(d.reconnect(300)).toEqual({ delivered: [], deletedMessages: false });
    expect(d.stats.deletedSignals).toBe(1);
  });

  it('collapsible messages do not count toward the 100, but the overflow discards them too', () => {
    const m = messages();
    const d = new PushDevice('fcm');
    for (const k of ['a', 'b', 'c', 'd']) d.send(m(0, k), 0, false);
    for (let i = 0; i < 100; i++) d.send(m(1), 1, false);
    expect(d.pending(1)).toBe(104);
    expect(d.send(m(2), 2, false)).toBe('dropped');
    expect(d.pending(2)).toBe(0);
    expect(d.stats.discarded).toBe(105);
    expect(d.reconnect(3).deletedMessages).toBe(true);
  });

  it('expired messages do not count toward the 100', () => {
    const m = messages();
    const d = new PushDevice('fcm');
    for (let i = 0; i < 100; i++) d.send(m(0, null, 5), 0, false);
    expect(d.send(m(5), 5, false)).toBe('stored');
    expect(d.pending(5)).toBe(1);
    expect(d.stats).toMatchObject({ expired: 100, discarded: 0 });
    expect(d.reconnect(6).deletedMessages).toBe(false);
  });

  it('a reconnection delivers collapsible and non-collapsible messages by send time, ties by id', () => {
    const m = messages();
    const d = new PushDevice('fcm');
    const x = m(30, 'k');
    const y = m(10);
    const z = m(20);
    const w = m(10, 'j');
    for (const msg of [x, y, z, w]) d.send(msg, 30, false);
    expect(ids(d.reconnect(40).delivered)).toEqual([y.id, w.id, z.id, x.id]);
  });
});

describe('push (apns): one stored notification per app', () => {
  it('keeps only the newest, whatever the collapse ids', () => {
    const m = messages();
    const d = new PushDevice('apns');
    expect(d.send(m(0), 0, false)).toBe('stored');
    expect(d.send(m(1, 'chat-1'), 1, false)).toBe('collapsed');
    const last = m(2, 'chat-2');
    expect(d.send(last, 2, false)).toBe('collapsed');
    expect(d.pending(2)).toBe(1);
    expect(d.reconnect(3).delivered).toEqual([last]);
    expect(d.stats).toMatchObject({ sent: 3, delivered: 1, collapsed: 2, discarded: 0 });
  });

  it('never overflows into a deleted signal, however many are sent', () => {
    const m = messages();
    const d = new PushDevice('apns');
    for (let i = 0; i < 500; i++) d.send(m(i), i, false);
    const r = d.reconnect(500);
    expect(ids(r.delivered)).toEqual([500]);
    expect(r.deletedMessages).toBe(false);
    expect(d.stats).toMatchObject({ sent: 500, delivered: 1, collapsed: 499, discarded: 0 });
  });

  it('apns-expiration 0 offline is dropped and leaves the stored notification in place', () => {
    const m = messages();
    const d = new PushDevice('apns');
    const kept = m(0);
    d.send(kept, 0, false);
    expect(d.send(m(1, null, 0), 1, false)).toBe('dropped');
    expect(d.reconnect(2).delivered).toEqual([kept]);
  });

  it('a newer notification with a shorter life replaces the older one and can then expire', () => {
    const m = messages();
    const d = new PushDevice('apns');
    d.send(m(0, null, DAY), 0, false);
    expect(d.send(m(1, null, 10), 1, false)).toBe('collapsed');
    expect(d.reconnect(11).delivered).toEqual([]);
    expect(d.stats).toMatchObject({ collapsed: 1, expired: 1, delivered: 0 });
  });
});

describe('push: bad input', () => {
  it('refuses a negative TTL, or one beyond the platform maximum, naming ttlUs', () => {
    const m = messages();
    expect(fieldOf(() => new PushDevice('fcm').send(m(0, null, -1), 0, false))).toBe('ttlUs');
    expect(fieldOf(() => new PushDevice('apns').send(m(0, null, -1), 0, true))).toBe('ttlUs');
    expect(fieldOf(() => new PushDevice('fcm').send(m(0, null, 28 * DAY + 1), 0, false))).toBe(
      'ttlUs',
    );
    expect(fieldOf(() => new PushDevice('apns').send(m(0, null, 30 * DAY + 1), 0, false))).toBe(
      'ttlUs',
    );
    expect(new PushDevice('apns').send(m(0, null, 29 * DAY), 0, false)).toBe('stored');
    expect(fieldOf(() => new PushDevice('fcm').send(m(0, null, 1.5), 0, false))).toBe('ttlUs');
    expect(() => new PushDevice('fcm').send(m(0, null, -1), 0, false)).toThrow(/ttlUs/);
  });

  it('refuses time going backwards in send, reconnect and pending, naming nowUs', () => {
    const m = messages();
    const d = new PushDevice('fcm');
    d.send(m(100), 100, false);
    expect(fieldOf(() => d.send(m(50), 99, false))).toBe('nowUs');
    expect(fieldOf(() => d.reconnect(99))).toBe('nowUs');
    expect(fieldOf(() => d.pending(99))).toBe('nowUs');
    expect(() => d.pending(99)).toThrow(/backwards/);
    expect(fieldOf(() => d.pending(Number.NaN))).toBe('nowUs');
    expect(fieldOf(() => d.pending(100.5))).toBe('nowUs');
    expect(fieldOf(() => new PushDevice('apns').pending(-1))).toBe('nowUs');
    // The same instant again is fine, and refused calls changed nothing.
    expect(d.pending(100)).toBe(1);
    expect(d.stats.sent).toBe(1);
  });

  it('refuses a message sent after now, a bad id and an empty collapse key, naming the field', () => {
    const d = new PushDevice('fcm');
    const ok: PushMessage = { id: 1, sentUs: 0, collapseKey: null, ttlUs: DAY };
    expect(fieldOf(() => d.send({ ...ok, sentUs: 11 }, 10, false))).toBe('sentUs');
    expect(fieldOf(() => d.send({ ...ok, sentUs: -1 }, 10, false))).toBe('sentUs');
    expect(fieldOf(() => d.send({ ...ok, id: Number.NaN }, 10, false))).toBe('id');
    expect(fieldOf(() => d.send({ ...ok, collapseKey: '' }, 10, false))).toBe('collapseKey');
    expect(d.stats.sent).toBe(0);
    expect(d.pending(10)).toBe(0);
  });

  it('refuses bad rules, naming the rule', () => {
    expect(fieldOf(() => new PushDevice('fcm', { maxCollapseKeys: 0 }))).toBe(
      'rules.maxCollapseKeys',
    );
    expect(fieldOf(() => new PushDevice('fcm', { maxNonCollapsible: -1 }))).toBe(
      'rules.maxNonCollapsible',
    );
    expect(fieldOf(() => new PushDevice('fcm', { maxTtlUs: 0 }))).toBe('rules.maxTtlUs');
    expect(fieldOf(() => new PushDevice('apns', { defaultTtlUs: 31 * DAY }))).toBe(
      'rules.defaultTtlUs',
    );
    expect(
      fieldOf(
        () =>
          new PushDevice('fcm', {
            collapseKeyOverflow: 'random' as PushRules['collapseKeyOverflow'],
          }),
      ),
    ).toBe('rules.collapseKeyOverflow');
    expect(fieldOf(() => new PushDevice('fcm', { maxKeys: 4 } as Partial<PushRules>))).toBe(
      'rules.maxKeys',
    );
    expect(fieldOf(() => new PushDevice('gcm' as PushPlatform))).toBe('platform');
  });

  it('reads no clock and draws no randomness: time is only what the caller passes', () => {
    const src = readFileSync(
      new URL('../../src/sim/apps/whatsapp/push.ts', import.meta.url),
      'utf8',
    );
    expect(src).not.toMatch(
      /Math\.random|Date\.now|new Date|performance\.now|setTimeout|setInterval/,
    );
  });
});

type Op =
  | { kind: 'send'; dt: number; lag: number; key: string | null; ttl: number; online: boolean }
  | { kind: 'reconnect'; dt: number }
  | { kind: 'pending'; dt: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('send' as const),
      dt: fc.integer({ min: 0, max: 40 }),
      lag: fc.integer({ min: 0, max: 5 }),
      key: fc.constantFrom(null, null, null, 'a', 'b', 'c', 'd', 'e', 'f'),
      ttl: fc.constantFrom(0, 1, 7, 30, 200, 1_000_000),
      online: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reconnect' as const), dt: fc.nat(300) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('pending' as const), dt: fc.nat(300) }) },
);

const rulesArb: fc.Arbitrary<Partial<PushRules>> = fc.oneof(
  fc.constant({}),
  fc.record({
    maxCollapseKeys: fc.integer({ min: 1, max: 5 }),
    maxNonCollapsible: fc.integer({ min: 0, max: 6 }),
    collapseKeyOverflow: fc.constantFrom('evict-oldest' as const, 'drop-incoming' as const),
  }),
);

/** Plays `ops` on a fresh device, checking every step; returns what each call returned. */
function play(platform: PushPlatform, overrides: Partial<PushRules>, ops: Op[]): unknown[] {
  const d = new PushDevice(platform, overrides);
  const r = d.rules;
  const cap = r.coalesceAll ? 1 : r.maxCollapseKeys + r.maxNonCollapsible;
  const stored = new Set<number>(); // ids that went into storage and are not known to be gone
  const seen = new Set<number>();
  let now = 0;
  let id = 0;
  let owedSignal = false;
  const out: unknown[] = [];
  for (const op of ops) {
    now += op.dt;
    if (op.kind === 'send') {
      const msg: PushMessage = {
        id: ++id,
        sentUs: Math.max(0, now - op.lag),
        collapseKey: op.key,
        ttlUs: op.ttl,
      };
      const res: PushOutcome = d.send(msg, now, op.online);
      out.push(res);
      if (op.online) expect(['delivered', 'dropped']).toContain(res);
      else expect(res).not.toBe('delivered');
      if (res === 'stored' || res === 'collapsed') stored.add(msg.id);
      const alive = now < msg.sentUs + msg.ttlUs;
      if (!op.online && alive && res === 'dropped' && !r.coalesceAll && op.key === null)
        owedSignal = true; // only the 100-message overflow drops a live non-collapsible message
    } else if (op.kind === 'reconnect') {
      const { delivered, deletedMessages } = d.reconnect(now);
      out.push([ids(delivered), deletedMessages]);
      expect(deletedMessages).toBe(owedSignal);
      owedSignal = false;
      for (let i = 1; i < delivered.length; i++)
        expect(delivered[i].sentUs).toBeGreaterThanOrEqual(delivered[i - 1].sentUs);
      for (const m of delivered) {
        expect(now).toBeLessThan(m.sentUs + m.ttlUs);
        expect(stored.has(m.id)).toBe(true);
        expect(seen.has(m.id)).toBe(false);
        seen.add(m.id);
      }
      stored.clear();
      expect(d.pending(now)).toBe(0);
    }
    const pending = d.pending(now);
    out.push(pending);
    expect(pending).toBeLessThanOrEqual(cap);
    const s = d.stats;
    expect(accounted(s, pending)).toBe(s.sent);
    expect(s.sent).toBe(id);
  }
  return out;
}

describe('push: every message is accounted for', () => {
  it.each<PushPlatform>(['fcm', 'apns'])(
    '%s: sent = delivered + collapsed + expired + discarded + pending, over random sends and reconnections',
    (platform) => {
      fc.assert(
        fc.property(rulesArb, fc.array(opArb, { maxLength: 300 }), (overrides, ops) => {
          const first = play(platform, overrides, ops);
          expect(play(platform, overrides, ops)).toEqual(first);
        }),
        { numRuns: 300 },
      );
    },
  );
});
