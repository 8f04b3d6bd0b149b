// Small kernels of the core: links, pending deliveries, the population layout, the trace format.
import { describe, expect, it } from 'vitest';
import { Link, webSocketHeaderBytes } from '../../src/sim/link.ts';
import { PendingDeliveries } from '../../src/sim/pending.ts';
import { buildPopulation } from '../../src/sim/population.ts';
import { Rng } from '../../src/sim/rng.ts';
import { formatTraceLine, TRACE_HEADER } from '../../src/sim/trace-format.ts';
import { TraceRing } from '../../src/sim/trace.ts';

const constant = (ms: number) => ({ kind: 'constant' as const, value: ms });

describe('Link', () => {
  it('adds serialisation (bytes × 8 / bandwidth) and propagation, and queues behind earlier sends', () => {
    // 1 Mbit/s = 1 bit per µs: 1,000 bytes take 8,000 µs to serialise.
    const link = new Link(
      { latencyMs: constant(10), jitterMs: 0, lossProbability: 0, rtoMs: 200, bandwidthMbps: 1 },
      new Rng(1),
    );
    expect(link.send(0, 1_000)).toBe(18_000);
    expect(link.send(0, 1_000)).toBe(26_000);
    expect(link.send(100_000, 125)).toBe(111_000);
    expect([link.messages, link.bytes]).toEqual([3, 2_125]);
  });

  it('turns loss into RTO delay and never lets a later message overtake', () => {
    const link = new Link(
      {
        latencyMs: constant(1),
        jitterMs: 0,
        lossProbability: 0.5,
        rtoMs: 200,
        bandwidthMbps: 10_000,
      },
      new Rng(2),
    );
    let last = 0;
    let delayed = 0;
    for (let i = 0; i < 1_000; i++) {
      const sentAt = i * 1_000;
      const arrival = link.send(sentAt, 100);
      expect(arrival).toBeGreaterThanOrEqual(last);
      if (arrival - sentAt >= 200_000) delayed++;
      last = arrival;
    }
    expect(delayed).toBeGreaterThan(300);
  });

  it('frames WebSocket payloads with 2, 4 or 10 header bytes', () => {
    expect([0, 125, 126, 65_535, 65_536].map(webSocketHeaderBytes)).toEqual([2, 2, 4, 4, 10]);
  });
});

describe('PendingDeliveries', () => {
  it('hands over exactly the deliveries that arrived before the given time', () => {
    const p = new PendingDeliveries();
    for (let i = 0; i < 5_000; i++) p.add((i * 37) % 1_000, i, i);
    const got: number[] = [];
    p.flush(500, (a) => got.push(a));
    expect(got.length).toBe(2_500);
    expect(got.every((a) => a < 500)).toBe(true);
    expect(p.size).toBe(2_500);
    p.flush(1_001, () => {});
    expect(p.size).toBe(0);
  });
});

describe('population', () => {
  it('connects users round robin up to the limit and lays slots out by (channel, server)', () => {
    const pop = buildPopulation(
      {
        users: 10,
        servers: 3,
        channels: 2,
        subscriptionsPerUser: 1,
        maxConnections: 3,
        balancer: 'round-robin',
      },
      new Rng(1),
    );
    expect(Array.from(pop.connections)).toEqual([3, 3, 3]);
    expect(pop.rejected).toBe(1);
    expect(pop.slotUser.length).toBe(9);
    for (let i = 1; i < pop.slotChannel.length; i++) {
      const a = [pop.slotChannel[i - 1], pop.userServer[pop.slotUser[i - 1]]];
      const b = [pop.slotChannel[i], pop.userServer[pop.slotUser[i]]];
      expect(a[0] < b[0] || (a[0] === b[0] && a[1] <= b[1])).toBe(true);
    }
    // Every pair's range holds only its channel's subscribers on its server.
    for (let c = 0; c < 2; c++)
      for (let q = pop.channelPairStart[c]; q < pop.channelPairStart[c + 1]; q++)
        for (let i = pop.pairMemberStart[q]; i < pop.pairMemberEnd[q]; i++) {
          expect(pop.slotChannel[i]).toBe(c);
          expect(pop.userServer[pop.slotUser[i]]).toBe(pop.pairServer[q]);
        }
  });

  it('gives each user distinct channels', () => {
    const pop = buildPopulation(
      {
        users: 200,
        servers: 4,
        channels: 6,
        subscriptionsPerUser: 5,
        maxConnections: 1_000,
        balancer: 'random',
      },
      new Rng(3),
    );
    const perUser = new Map<number, Set<number>>();
    pop.slotUser.forEach((u, i) =>
      perUser.set(u, (perUser.get(u) ?? new Set()).add(pop.slotChannel[i])),
    );
    expect(perUser.size).toBe(200);
    for (const channels of perUser.values()) expect(channels.size).toBe(5);
  });
});

describe('trace', () => {
  it('keeps the newest records when it wraps and drains each record once', () => {
    const ring = new TraceRing(4);
    for (let i = 0; i < 6; i++) ring.write(1, i, i + 1, 0, 1, i, -1);
    const info = (id: number) => ({ channel: id % 2, seq: id });
    expect(ring.drain(['a', 'b'], info).map((r) => r.messageId)).toEqual([2, 3, 4, 5]);
    expect(ring.drain(['a', 'b'], info)).toEqual([]);
  });

  it('prints one line per record in fixed columns', () => {
    const line = formatTraceLine({
      kind: 'hop1',
      startUs: 28_723,
      endUs: 61_004,
      from: 'server-2',
      to: 'users-2',
      messageId: 40,
      channel: 3,
      seq: 7,
      user: 912,
    });
    expect(`${TRACE_HEADER}\n${line}`).toMatchInlineSnapshot(`
      "    start_ms       end_ms kind    from         to                msg   chan    seq     user
            28.723       61.004 hop1    server-2     users-2            40      3      7      912"
    `);
  });
});
