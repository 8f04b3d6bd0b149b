// The auction bridge against the in-process store and a real Redis: the three controls' semantics, lost updates found by the checker, keys cleaned up, and one-line errors from the CLI.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redisReachable } from '../../src/bridge/broker-client.ts';
import { makePlan } from '../../src/bridge/plan.ts';
import { runAuctionBridge, type AuctionBridgeReport } from '../../src/bridge/auction/run.ts';
import {
  countKeys,
  InProcessAuctionStore,
  RedisAuctionStore,
  type AuctionStore,
  type BidRule,
} from '../../src/bridge/auction/store.ts';
import { getScenario } from '../../src/scenario/registry.ts';
import { resolveRun } from '../../src/scenario/resolve.ts';

const REDIS = 'redis://127.0.0.1:6379';
const redisUp = await redisReachable(REDIS);
if (process.env.CI === 'true' && !redisUp)
  throw new Error(`CI=true requires a Redis at ${REDIS} for the auction bridge's tests`);

const ROOT = join(import.meta.dirname, '..', '..');
const exec = promisify(execFile);

/** The CLI in a child process, without REDIS_URL (so no --broker means the in-process store). */
async function hoplab(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec('npx', ['tsx', 'src/cli/main.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: '' },
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

let admin: Redis | null = null;
async function keysUnder(prefix: string): Promise<number> {
  admin ??= new Redis(REDIS, { maxRetriesPerRequest: 1 });
  return countKeys(admin, prefix);
}
afterAll(() => admin?.disconnect());

/**
 * Contention that makes naive lose updates every time: 5,000 watchers on 20 auctions (Zipf 1:
 * the hottest has ~1,400 watchers and ~70 bids/s) for 4 s, and a 5 ms read → write gap. Over
 * seeds 1–3 both stores lost 29–37 updates per run (the simulator 33–36), far from 0.
 */
const CONTENDED = { users: 5_000, channels: 20, bidRate: 0.05, duration: 4, decideUs: 5_000 };
const SEED = 2;
const rerun = (control: string, broker?: string) =>
  `rerun: npm run hoplab -- bridge live-auction --seed ${SEED}${Object.entries({
    ...CONTENDED,
    control,
  })
    .map(([k, v]) => ` --set ${k}=${v}`)
    .join('')}${broker ? ` --broker ${broker}` : ''}`;

const stores: [string, string | undefined][] = [['in-process', undefined]];
if (redisUp) stores.push(['redis', REDIS]);

describe('auction bridge: the controls against a real store', () => {
  for (const [label, url] of stores)
    for (const control of ['naive', 'optimistic', 'atomic'] as const)
      it(`${control} (${label}): the simulator's bids, checked from the store's own log; keys cleaned up`, async () => {
        const run = resolveRun(getScenario('live-auction'), { ...CONTENDED, control }, SEED);
        const r: AuctionBridgeReport = await runAuctionBridge(run, { redisUrl: url });
        const why = `${rerun(control, url)}\nmeasured ${JSON.stringify(r.measured.bids)}`;
        const m = r.measured;
        expect(r.store, why).toBe(label);
        expect(r.schedule.sameAsSimulator, why).toBe(true);
        expect(m.bids.sent, why).toBe(r.simulated.bids.sent);
        // Every bid is answered once; every accepted one is in the log exactly once.
        expect(m.bids.accepted + m.bids.rejected, why).toBe(m.bids.sent);
        expect(m.checker.writes, why).toBe(m.bids.accepted);
        expect(m.checker.agrees, why).toBe(true);
        expect(m.bids.lostUpdates, why).toBe(m.checker.lostUpdates);
        if (control === 'naive') {
          expect(m.bids.lostUpdates, why).toBeGreaterThan(0);
          expect(r.simulated.bids.lostUpdates, why).toBeGreaterThan(0);
        } else {
          expect(m.bids.lostUpdates, why).toBe(0);
          expect(m.checker.notHighest, why).toBe(0);
        }
        if (control === 'optimistic') expect(m.bids.retries, why).toBeGreaterThan(0);
        if (control !== 'optimistic') expect(m.bids.retries, why).toBe(0);
        expect(m.latencyMs.count, why).toBe(m.bids.sent);
        expect(m.latencyMs.p50, why).toBeGreaterThan(0);
        expect(m.keysLeft, why).toBe(0);
        if (url) {
          expect(r.redisVersion, why).toMatch(/^\d+\.\d+/);
          expect(r.keyPrefix, why).toMatch(/^hoplab:auction:/);
          expect(await keysUnder(r.keyPrefix!), why).toBe(0);
        } else expect(r.notes.join('\n'), why).toMatch(/in-process/);
      });
});

describe('auction bridge: store semantics, two bids that read the same price', () => {
  const rule: BidRule = { startPrice: 100, minIncrement: 5 };
  const open = async (url: string | undefined): Promise<AuctionStore> =>
    url
      ? RedisAuctionStore.open({ url, rule, sessions: 2 })
      : new InProcessAuctionStore({ rule, sessions: 2 });
  for (const [label, url] of stores) {
    it(`naive: both blind writes land, the log shows the lost one (${label})`, async () => {
      const store = await open(url);
      try {
        const [a, b] = [await store.acquire(), await store.acquire()];
        const [ra, rb] = await Promise.all([a.get(7), b.get(7)]);
        expect([ra, rb]).toEqual([null, null]);
        await a.write(7, { amount: 115, bidder: 1, bid: 0 });
        await b.write(7, { amount: 110, bidder: 2, bid: 1 });
        expect((await store.log(7)).map((w) => w.amount)).toEqual([115, 110]);
        expect(await a.get(7)).toEqual({ amount: 110, bidder: 2, bid: 1 });
      } finally {
        expect(await store.close()).toBe(0);
        if (url) expect(await keysUnder(store.prefix)).toBe(0);
      }
    });
    it(`optimistic: the second EXEC fails; atomic: the second compare-and-set is refused (${label})`, async () => {
      const store = await open(url);
      try {
        const [a, b] = [await store.acquire(), await store.acquire()];
        await Promise.all([a.watchGet(3), b.watchGet(3)]);
        expect(await a.execWrite(3, { amount: 115, bidder: 1, bid: 0 })).toBe(true);
        expect(await b.execWrite(3, { amount: 110, bidder: 2, bid: 1 })).toBe(false);
        const first = await a.compareAndSet(4, { amount: 105, bidder: 1, bid: 2 });
        const second = await b.compareAndSet(4, { amount: 105, bidder: 2, bid: 3 });
        expect(first).toEqual({ accepted: true, current: null });
        expect(second).toEqual({ accepted: false, current: { amount: 105, bidder: 1, bid: 2 } });
        expect((await store.log(3)).map((w) => w.bid)).toEqual([0]);
        expect((await store.log(4)).map((w) => w.bid)).toEqual([2]);
      } finally {
        expect(await store.close()).toBe(0);
        if (url) expect(await keysUnder(store.prefix)).toBe(0);
      }
    });
  }
});

describe('auction bridge: the command line', () => {
  it('a bad control gives the field-named error, exit code 2', async () => {
    const { code, stdout, stderr } = await hoplab(
      'bridge',
      'live-auction',
      '--set',
      'control=greedy',
    );
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim()).toBe(
      'hoplab: control: must be one of naive, optimistic, atomic, got "greedy"',
    );
  });

  it('an unreachable --broker gives one line naming the flag and the address; nothing is left behind', async () => {
    const before = redisUp ? await keysUnder('hoplab:auction') : 0;
    const { code, stdout, stderr } = await hoplab(
      'bridge',
      'live-auction',
      '--set',
      'control=atomic',
      '--broker',
      'redis://127.0.0.1:1',
    );
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim()).toBe('hoplab: --broker: no Redis answers at redis://127.0.0.1:1');
    if (redisUp) expect(await keysUnder('hoplab:auction')).toBe(before);
  });

  const small = ['--set', 'users=2000', '--set', 'channels=10', '--duration', '2', '--json'];
  it('--json without --broker: the in-process store, one object with both sides', async () => {
    const { code, stdout } = await hoplab(
      'bridge',
      'live-auction',
      '--set',
      'control=optimistic',
      ...small,
    );
    expect(code).toBe(0);
    const r = JSON.parse(stdout) as AuctionBridgeReport;
    expect(r.store).toBe('in-process');
    expect(r.redisVersion).toBeNull();
    for (const side of [r.simulated, r.measured]) {
      for (const k of ['accepted', 'rejected', 'lostUpdates', 'retries', 'gaveUp'])
        expect(side.bids).toHaveProperty(k);
      for (const k of ['p50', 'p99', 'max']) expect(side.latencyMs).toHaveProperty(k);
    }
    expect(r.notes.some((n) => n.includes('in-process'))).toBe(true);
  });

  it.skipIf(!redisUp)('--json with --broker: the real Redis and its version', async () => {
    const { code, stdout } = await hoplab(
      'bridge',
      'live-auction',
      '--set',
      'control=naive',
      ...small,
      '--broker',
      REDIS,
    );
    expect(code).toBe(0);
    const r = JSON.parse(stdout) as AuctionBridgeReport;
    expect(r.store).toBe('redis');
    expect(r.redisVersion).toMatch(/^\d+\.\d+/);
    expect(r.measured.keysLeft).toBe(0);
    expect(await keysUnder(r.keyPrefix!)).toBe(0);
  });

  it('the fan-out plan still refuses application scenarios, pointing the auction at its own replay', async () => {
    const run = resolveRun(getScenario('live-auction'), {}, 1);
    await expect(makePlan(run, { net: 'emulate' }, () => run)).rejects.toMatchObject({
      field: 'scenario',
      message: expect.stringContaining('npm run hoplab -- bridge live-auction'),
    });
  });
});
