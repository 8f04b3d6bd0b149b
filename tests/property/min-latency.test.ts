// No delivery is faster than the sum of the minimum latencies and costs on its path.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadScenario, resolveRun } from '../../src/scenario/resolve.ts';
import type { LinkSpec } from '../../src/scenario/schema.ts';
import { webSocketHeaderBytes } from '../../src/sim/link.ts';
import { createSimulation } from '../../src/sim/simulation.ts';
import twoHop from '../../simulations/two-hop.ts';

const REDIS_FRAME_BYTES = 40;

function link(minMs: number, widthMs: number, bandwidthMbps: number): LinkSpec {
  return {
    latencyMs: { kind: 'uniform', min: minMs, max: minMs + widthMs },
    jitterMs: widthMs / 2,
    lossProbability: 0,
    rtoMs: 200,
    bandwidthMbps,
  };
}

describe('minimum latency', () => {
  it('every hop and every end-to-end latency is at least its path’s lower bound', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 4_294_967_295 }),
        fc.record({
          toBrokerMs: fc.double({ min: 0.05, max: 5, noNaN: true }),
          toServerMs: fc.double({ min: 0.05, max: 5, noNaN: true }),
          toUserMs: fc.double({ min: 1, max: 200, noNaN: true }),
          widthMs: fc.double({ min: 0, max: 50, noNaN: true }),
          userMbps: fc.constantFrom(1, 10, 100),
          payload: fc.integer({ min: 1, max: 50_000 }),
          cpuPerSendUs: fc.integer({ min: 0, max: 200 }),
        }),
        async (seed, g) => {
          const file = {
            ...twoHop,
            id: 'min-latency',
            parameters: [],
            durationS: 2,
            topology: {
              ...twoHop.topology,
              users: 120,
              server: { ...twoHop.topology.server, cpuPerSendUs: g.cpuPerSendUs },
              links: {
                sourceToBroker: link(g.toBrokerMs, g.widthMs, 10_000),
                brokerToServer: link(g.toServerMs, g.widthMs, 10_000),
                serverToUser: link(g.toUserMs, g.widthMs, g.userMbps),
              },
            },
            workload: {
              ...twoHop.workload,
              payloadBytes: { kind: 'constant' as const, value: g.payload },
            },
          };
          const run = resolveRun(loadScenario(file), {}, seed);
          if (run.scenario.model !== 'two-hop') throw new Error('expected a two-hop scenario');
          const t = run.scenario.topology;
          const hop2Bytes = g.payload + REDIS_FRAME_BYTES;
          const wire = g.payload + webSocketHeaderBytes(g.payload);
          const hop2BoundUs =
            1000 * (g.toBrokerMs + g.toServerMs) +
            (2 * hop2Bytes * 8) / 10_000 +
            t.broker.serviceUs;
          const hop1BoundUs =
            1000 * g.toUserMs +
            t.server.cpuPerInboundUs +
            g.cpuPerSendUs +
            (wire * 8) / t.server.egressMbps +
            (wire * 8) / g.userMbps;
          const sim = await createSimulation(run);
          sim.runUntil(sim.durationUs);
          const r = sim.result(0);
          sim.dispose();
          const why = `seed ${seed}, ${JSON.stringify(g)}`;
          expect(r.delivered, why).toBeGreaterThan(0);
          // Arrival times are rounded to whole microseconds: allow 1 µs per hop.
          expect(r.hop2LatencyMs.min * 1000, why).toBeGreaterThanOrEqual(hop2BoundUs - 2);
          expect(r.hop1LatencyMs.min * 1000, why).toBeGreaterThanOrEqual(hop1BoundUs - 1);
          expect(r.latencyMs.min * 1000, why).toBeGreaterThanOrEqual(hop2BoundUs + hop1BoundUs - 3);
        },
      ),
      { numRuns: 40 },
    );
  });
});
