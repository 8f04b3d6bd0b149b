// The WhatsApp case on the cluster fabric: offline delivery is exactly once or counted, receipts are ordered, runs are deterministic, bad input is named.
import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../../src/scenario/errors.ts';
import type { WhatsAppApp, WhatsAppStats } from '../../src/sim/apps/whatsapp/app.ts';
import type { ClusterSimulation } from '../../src/sim/models/cluster/model.ts';
import { createSimulation } from '../../src/sim/simulation.ts';
import { rerun, spec, type Overrides } from '../support/run.ts';

/** 2,000 users for 30 s; probe phones offline from 5 s to 15 s, a tenth of the rest for ~5 s. */
const SMALL: Overrides = {
  duration: 30,
  probeAtS: 5,
  offlineForS: 10,
  offlineMeanS: 5,
  offlineShare: 0.1,
};

async function run(o: Overrides = {}, seed = 1) {
  const sim = (await createSimulation(
    spec('whatsapp', { ...SMALL, ...o }, seed),
  )) as ClusterSimulation;
  sim.runUntil(sim.durationUs);
  const result = sim.result(0) as ReturnType<ClusterSimulation['result']> & {
    push: WhatsAppStats['push'];
    receipts: WhatsAppStats['receipts'];
    store: WhatsAppStats['store'];
    copies: WhatsAppStats['copies'];
  };
  const app = sim.caseApp() as WhatsAppApp;
  const copies = app.copies();
  sim.dispose();
  return { result, copies, why: rerun('whatsapp', { ...SMALL, ...o }, seed) };
}

describe('whatsapp: store-and-forward', () => {
  it('delivers a held copy exactly once after reconnection, or counts it discarded or held', async () => {
    const { result, copies, why } = await run({ storeLimit: 3 });
    const held = copies.filter((c) => c.held);
    expect(held.length, why).toBeGreaterThan(0);
    let delivered = 0;
    let discarded = 0;
    let pending = 0;
    for (const c of copies) {
      expect(c.applies, why).toBeLessThanOrEqual(1);
      if (c.appliedUs >= 0) {
        expect(c.applies, why).toBe(1);
        expect(c.discarded, why).toBe(false);
        delivered++;
      } else if (c.discarded) discarded++;
      else pending++;
    }
    // Sent = delivered + discarded + still held, for every copy and for the held ones.
    expect(copies.length, why).toBe(result.copies.sent);
    expect(delivered + discarded + pending, why).toBe(copies.length);
    expect(result.copies, why).toEqual({
      sent: copies.length,
      delivered,
      discarded,
      held: pending,
    });
    const s = result.store;
    expect(s.held, why).toBe(held.length);
    expect(s.deliveredAfterReconnect + s.discarded + s.stillHeld, why).toBe(s.held);
    expect(s.deliveredAfterReconnect, why).toBeGreaterThan(0);
    // A store of three per user loses the older messages of a ten-second absence.
    expect(s.discarded, why).toBeGreaterThan(0);
    expect(s.deleted, why).toBeLessThanOrEqual(s.deliveredAfterReconnect);
  });

  it('counts every push: sent = delivered + collapsed + discarded + expired + pending', async () => {
    const { result, why } = await run();
    const p = result.push;
    expect(p.sent, why).toBeGreaterThan(0);
    expect(p.delivered + p.collapsed + p.discarded + p.expired + p.pending, why).toBe(p.sent);
  });
});

describe('whatsapp: receipts', () => {
  it('orders sent ≤ delivered ≤ read in time for every copy', async () => {
    const { result, copies, why } = await run();
    let delivered = 0;
    let read = 0;
    for (const c of copies) {
      if (c.deliveredUs >= 0) {
        delivered++;
        expect(c.appliedUs, why).toBeGreaterThanOrEqual(c.sentUs);
        expect(c.deliveredUs, why).toBeGreaterThanOrEqual(c.appliedUs);
      }
      if (c.readUs >= 0) {
        read++;
        expect(c.deliveredUs, why).toBeGreaterThanOrEqual(0);
        expect(c.readUs, why).toBeGreaterThanOrEqual(c.deliveredUs);
      }
    }
    expect(result.receipts, why).toEqual({ sent: copies.length, delivered, read });
    expect(read, why).toBeGreaterThan(0);
  });
});

describe('whatsapp: determinism and input', () => {
  it('gives the same run for the same seed and another for another', async () => {
    const a = await run({}, 5);
    const b = await run({}, 5);
    const c = await run({}, 6);
    expect(a.result.traceHash).toBe(b.result.traceHash);
    expect(a.result.receipts).toEqual(b.result.receipts);
    expect(c.result.traceHash).not.toBe(a.result.traceHash);
  });

  it('names the field of a bad parameter', () => {
    const fieldOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(ScenarioError);
        return (e as ScenarioError).field;
      }
      throw new Error('expected a ScenarioError');
    };
    expect(fieldOf(() => spec('whatsapp', { androidShare: 2 }))).toBe('androidShare');
    expect(fieldOf(() => spec('whatsapp', { pushKind: 'sometimes' }))).toBe('pushKind');
    expect(fieldOf(() => spec('whatsapp', { msgRate: -1 }))).toBe('msgRate');
  });
});
