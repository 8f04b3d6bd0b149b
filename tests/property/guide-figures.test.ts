// The guide's figures, reproduced by the model at the guide's assumptions (checked, not asserted).
import { describe, expect, it } from 'vitest';
import { createSimulation } from '../../src/sim/simulation.ts';
import type { RunResult } from '../../src/sim/types.ts';
import { rerun, runToEnd, spec } from '../support/run.ts';

describe('the guide’s figures', () => {
  it('two-hop: WebSocket delivery lands in the guide’s 10–100 ms band and hop 2 in Redis’s <1 ms', async () => {
    const { result: r } = await runToEnd('two-hop', {}, 1);
    const why = rerun('two-hop', {}, 1);
    expect(r.latencyMs.p50, why).toBeGreaterThanOrEqual(10);
    expect(r.latencyMs.p99, why).toBeLessThanOrEqual(100);
    expect(r.hop2LatencyMs.p50, why).toBeLessThan(1);
    // 1,000 users, one of 10 channels each, 5 updates/s per channel: ~5,000 deliveries/s.
    expect(r.deliveriesPerSec, why).toBeGreaterThan(4_500);
    expect(r.deliveriesPerSec, why).toBeLessThan(5_500);
    expect(r.dropped + r.rejectedConnections).toBe(0);
  });

  it('two-hop-1m: 1M users = 100 servers × 10K connections, about 1M deliveries per second', async () => {
    const o = { duration: 2 };
    const sim = await createSimulation(spec('two-hop-1m', o, 1));
    sim.runUntil(sim.durationUs);
    const r = sim.result(0);
    const topology = sim.topology();
    sim.dispose();
    const why = rerun('two-hop-1m', o, 1);
    expect(r.servers).toHaveLength(100);
    expect(
      r.servers.every((s) => s.connections === 10_000),
      why,
    ).toBe(true);
    expect(r.rejectedConnections).toBe(0);
    expect(r.produced).toBe(2_000);
    expect(r.fanout).toBe(2_000_000);
    // Deliveries still in flight at the end are the last ~40 ms of the second second.
    expect(r.delivered, why).toBeGreaterThan(1_950_000);
    expect(r.delivered + r.inFlight).toBe(r.fanout);
    expect(topology.nodes.filter((n) => n.kind === 'users').reduce((a, n) => a + n.count, 0)).toBe(
      1_000_000,
    );
    expect(r.simBytesPerUser).toBeLessThan(64);
  });

  it('halving the servers of two-hop-1m rejects half the users at the 10K connection limit', async () => {
    const o = { duration: 1, servers: 50 };
    const { result: r } = await runToEnd('two-hop-1m', o, 1);
    expect(r.rejectedConnections, rerun('two-hop-1m', o, 1)).toBe(500_000);
  });

  it('overloaded server cores show up as queueing delay, not as loss', async () => {
    const base = { users: 2_000, rate: 20, duration: 5 };
    const slow = { ...base, cpuPerSendUs: 240, cores: 1 };
    const a = (await runToEnd('two-hop', base, 2)).result;
    const b = (await runToEnd('two-hop', slow, 2)).result;
    const why = rerun('two-hop', slow, 2);
    expect(Math.max(...b.servers.map((s) => s.cpuUtilisation)), why).toBeGreaterThan(0.9);
    expect(Math.max(...b.servers.map((s) => s.queueLengthMax)), why).toBeGreaterThan(100);
    expect(b.latencyMs.p99, why).toBeGreaterThan(a.latencyMs.p99 * 2);
    expect(b.dropped, why).toBe(0);
  });
});

describe('the guide’s protocol latencies, at each protocol scenario’s stated defaults', () => {
  // The guide's decision matrix: polling 1–30 s, long polling 0.5–3 s, SSE 50–200 ms,
  // WebSocket 10–100 ms, WebRTC 10–50 ms. The scenario prose says under which conditions.
  const ranges: [string, number, number][] = [
    ['polling', 1_000, 30_000],
    ['long-polling', 500, 3_000],
    ['sse', 50, 200],
    ['websocket', 10, 100],
    ['webrtc', 10, 50],
  ];
  for (const [id, lowMs, highMs] of ranges) {
    it(`${id}: p50 lands in ${lowMs}–${highMs} ms`, async () => {
      const { result: r } = await runToEnd(id, {}, 1);
      expect(r.latencyMs.p50, rerun(id, {}, 1)).toBeGreaterThanOrEqual(lowMs);
      expect(r.latencyMs.p50, rerun(id, {}, 1)).toBeLessThanOrEqual(highMs);
    });
  }

  it('the comparison reproduces the matrix’s orderings: latency, bidirectional, server memory, battery', async () => {
    const by: Record<string, RunResult> = {};
    for (const p of ['polling', 'long-polling', 'sse', 'websocket', 'webrtc'])
      by[p] = (await runToEnd('protocols', { protocol: p }, 1)).result;
    const p50 = (p: string) => by[p].latencyMs.p50;
    expect(p50('polling')).toBeGreaterThan(p50('long-polling'));
    expect(p50('long-polling')).toBeGreaterThan(p50('sse'));
    expect(p50('webrtc')).toBeLessThan(p50('websocket'));
    expect(by.sse.protocolStats?.bidirectional).toBe(false);
    expect(by.websocket.protocolStats?.bidirectional).toBe(true);
    // Polling keeps a phone's radio awake: the worst battery; WebSocket and SSE let it sleep.
    expect(by.polling.batteryMahPerHour!).toBeGreaterThan(1.3 * by.websocket.batteryMahPerHour!);
    expect(by.polling.batteryMahPerHour!).toBeGreaterThan(1.3 * by.sse.batteryMahPerHour!);
    // Polling asks most per update and wastes most; push protocols ask almost never.
    expect(by.polling.requestsPerDelivered!).toBeGreaterThan(
      by['long-polling'].requestsPerDelivered!,
    );
    expect(by.websocket.requestsPerDelivered!).toBeLessThan(0.5);
    expect(by.polling.wastedRequestShare!).toBeGreaterThan(0.5);
  });
});
