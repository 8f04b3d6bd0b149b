// The decision wizard's logic: every path of the guide's decision tree, step 4's overrides, and lab links the lab accepts.
import { describe, expect, it } from 'vitest';
import { runFromQuery } from '../../src/scenario/url.ts';
import { splitQuery } from '../../src/app/query.ts';
import {
  DECISION_TREE,
  DEFAULT_ANSWERS,
  decide,
  treePath,
  type Answers,
  type TreeNode,
  type Latency,
  type Scale,
  type UseCase,
} from '../../src/app/wizard/decide.ts';
import { parseArms } from '../../src/worker/arms.ts';

const answers = (patch: Partial<Answers> = {}): Answers => ({
  ...DEFAULT_ANSWERS,
  ...patch,
  infra: { ...DEFAULT_ANSWERS.infra, ...patch.infra },
  failures: { ...DEFAULT_ANSWERS.failures, ...patch.failures },
});

/** Opens a wizard link the way the page does: page keys split off, the rest to runFromQuery. */
function openLink(query: string) {
  const page = splitQuery(query);
  const run = runFromQuery(page.runSearch);
  const arms = page.arms === null ? null : parseArms(page.arms, run);
  return { run, arms, params: new URLSearchParams(query) };
}

const LATENCIES: Latency[] = ['under50ms', 'under500ms', 'under5s', 'over5s'];
const SCALES: Scale[] = ['under1k', '1k-100k', '100k-1m', 'over1m'];
const USE_CASES: UseCase[] = [
  'chat',
  'gaming',
  'collaboration',
  'trading',
  'dashboard',
  'feed',
  'other',
];

describe('the decision tree', () => {
  it('no real-time need → a regular REST API, opened as slow polling', () => {
    const r = decide(answers({ realtime: false }));
    expect(r.choice).toBe('rest');
    expect(r.reasons[0].text).toMatch(/REST API/);
    const { run } = openLink(r.openQuery);
    expect(run.scenario.id).toBe('polling');
    expect(run.params.pollIntervalS).toBe(60);
  });

  it('server → client only: under 1 s → SSE, over 1 s → long polling, over 5 s → polling', () => {
    const expected: Record<Latency, string> = {
      under50ms: 'sse',
      under500ms: 'sse',
      under5s: 'long-polling',
      over5s: 'polling',
    };
    for (const latency of LATENCIES) {
      const r = decide(answers({ latency, bidirectional: false }));
      expect(r.choice, latency).toBe(expected[latency]);
      expect(r.reasons.find((x) => x.step === 'Decision tree')?.text).toMatch(/server → client/i);
      expect(r.reasons.find((x) => x.step === 'Step 2 · direction')?.text).toMatch(
        /SSE or Long Polling/,
      );
    }
  });

  it('two-way, under 50 ms: peer-to-peer possible → WebRTC, otherwise WebSocket (optimised)', () => {
    const p2p = decide(answers({ latency: 'under50ms', bidirectional: true, peerToPeer: true }));
    expect(p2p.choice).toBe('webrtc');
    expect(p2p.candidates).toEqual(['webrtc', 'websocket']);
    const server = decide(
      answers({ latency: 'under50ms', bidirectional: true, peerToPeer: false }),
    );
    expect(server.choice).toBe('websocket');
    expect(server.reasons.find((x) => x.step === 'Decision tree')?.text).toMatch(/optimised/);
  });

  it('two-way, standard use cases → WebSocket; gaming and dashboards name a second candidate', () => {
    for (const useCase of USE_CASES) {
      const r = decide(answers({ latency: 'under500ms', bidirectional: true, useCase }));
      expect(r.choice, useCase).toBe('websocket');
      expect(r.candidates.length).toBeGreaterThanOrEqual(2);
    }
    expect(decide(answers({ bidirectional: true, useCase: 'gaming' })).candidates).toContain(
      'webrtc',
    );
    expect(decide(answers({ bidirectional: true, useCase: 'dashboard' })).candidates).toContain(
      'sse',
    );
  });

  it('two-way but slow needs keep step 1’s request-based protocols as candidates', () => {
    expect(
      decide(answers({ latency: 'under5s', bidirectional: true, useCase: 'chat' })).candidates,
    ).toEqual(['websocket', 'long-polling']);
    expect(
      decide(answers({ latency: 'over5s', bidirectional: true, useCase: 'chat' })).candidates,
    ).toEqual(['websocket', 'polling']);
  });
});

describe('step 4 overrides', () => {
  it('no WebSocket support → long polling (two-way)', () => {
    const r = decide(
      answers({
        bidirectional: true,
        useCase: 'chat',
        infra: { websocket: false } as Answers['infra'],
      }),
    );
    expect(r.choice).toBe('long-polling');
    expect(r.candidates).toContain('websocket');
    expect(r.reasons.some((x) => x.step === 'Step 4 · infrastructure')).toBe(true);
  });

  it('firewall restrictions turn WebSocket and WebRTC into SSE or long polling', () => {
    const two = decide(
      answers({
        latency: 'under50ms',
        bidirectional: true,
        peerToPeer: true,
        infra: { ...DEFAULT_ANSWERS.infra, firewall: true },
      }),
    );
    expect(two.choice).toBe('long-polling');
    expect(two.candidates).toEqual(['long-polling', 'sse', 'websocket', 'webrtc']);
    const one = decide(answers({ infra: { ...DEFAULT_ANSWERS.infra, firewall: true } }));
    expect(one.choice).toBe('sse');
    expect(one.reasons.at(-3)?.text).toMatch(/passes as it is/);
  });

  it('legacy browsers add a long-polling fallback to SSE and WebRTC', () => {
    const r = decide(answers({ infra: { ...DEFAULT_ANSWERS.infra, legacyBrowsers: true } }));
    expect(r.choice).toBe('sse');
    expect(r.candidates).toContain('long-polling');
  });

  it('mobile-first sets the radio and round trip; otherwise the client is on wifi', () => {
    const mobile = openLink(
      decide(answers({ infra: { ...DEFAULT_ANSWERS.infra, mobileFirst: true } })).openQuery,
    );
    expect(mobile.run.params.radio).toBe('lte');
    expect(mobile.run.params.rttMs).toBe(150);
    expect(openLink(decide(answers()).openQuery).run.params.radio).toBe('wifi');
  });
});

describe('links into the lab', () => {
  it('set parameters from the answers: clients by scale, client share by direction, failures', () => {
    const r = decide(
      answers({
        bidirectional: true,
        useCase: 'chat',
        scale: 'under1k',
        failures: { ...DEFAULT_ANSWERS.failures, offlineStorage: false, healthMonitoring: false },
      }),
    );
    const { run } = openLink(r.openQuery);
    expect(run.scenario.id).toBe('websocket');
    expect(run.params.clients).toBe(500);
    expect(run.params.clientShare).toBe(0.5);
    expect(run.params.dropEveryS).toBe(300);
    expect(run.params.sseResume).toBe('off');
    expect(run.params.heartbeatS).toBe(120);
    const oneWay = openLink(decide(answers()).openQuery);
    expect(oneWay.run.params.clientShare).toBe(0);
  });

  it('the compare link runs all protocols on one seed with the candidates selected', () => {
    const r = decide(answers({ bidirectional: true, useCase: 'gaming' }));
    const { run, arms } = openLink(r.compareQuery);
    expect(run.scenario.id).toBe('protocols');
    expect(run.params.protocol).toBe('all');
    expect(arms).toEqual(['websocket', 'webrtc']);
    // WebRTC's mesh stays within its 64-peer limit as clients grow.
    expect(Number(run.params.clients) / Number(run.params.channels)).toBeLessThanOrEqual(64);
  });

  it('every path opens URLs that runFromQuery accepts', () => {
    let count = 0;
    for (const realtime of [true, false])
      for (const latency of LATENCIES)
        for (const bidirectional of [true, false])
          for (const peerToPeer of [true, false])
            for (const scale of SCALES)
              for (const useCase of USE_CASES)
                for (const websocket of [true, false])
                  for (const firewall of [true, false]) {
                    const a = answers({
                      realtime,
                      latency,
                      bidirectional,
                      peerToPeer,
                      scale,
                      useCase,
                      infra: {
                        websocket,
                        firewall,
                        mobileFirst: firewall,
                        legacyBrowsers: !websocket,
                      },
                      failures: {
                        reconnection: websocket,
                        offlineStorage: firewall,
                        circuitBreakers: peerToPeer,
                        healthMonitoring: bidirectional,
                      },
                    });
                    const r = decide(a);
                    const label = JSON.stringify(a);
                    expect(r.candidates.length, label).toBeGreaterThanOrEqual(2);
                    expect(new Set(r.candidates).size, label).toBe(r.candidates.length);
                    if (r.choice !== 'rest') expect(r.candidates[0], label).toBe(r.choice);
                    // runFromQuery takes both links as they are (view and arms are reserved keys).
                    expect(() => runFromQuery(r.openQuery), label).not.toThrow();
                    expect(() => runFromQuery(r.compareQuery), label).not.toThrow();
                    const open = openLink(r.openQuery);
                    expect(open.run.scenario.id, label).toBe(
                      r.choice === 'rest' ? 'polling' : r.choice,
                    );
                    const compare = openLink(r.compareQuery);
                    expect(compare.run.params.protocol, label).toBe('all');
                    expect(
                      compare.arms ?? ['polling', 'long-polling', 'sse', 'websocket', 'webrtc'],
                    ).toEqual(expect.arrayContaining(r.candidates));
                    expect(r.reasons.length, label).toBeGreaterThan(0);
                    count++;
                  }
    expect(count).toBe(2 * 4 * 2 * 2 * 4 * 7 * 2 * 2);
  });
});

describe('the drawn decision tree', () => {
  const ids = (n: TreeNode): string[] => [n.id, ...(n.children ?? []).flatMap(ids)];
  it('walks every answer to a node that exists, ending at the tree’s leaf for that path', () => {
    const all = new Set(ids(DECISION_TREE));
    const leaves: Record<string, string> = {};
    for (const realtime of [true, false])
      for (const latency of LATENCIES)
        for (const bidirectional of [true, false])
          for (const peerToPeer of [true, false])
            for (const useCase of USE_CASES) {
              const a = answers({ realtime, latency, bidirectional, peerToPeer, useCase });
              const path = treePath(a);
              for (const id of path) expect(all.has(id), id).toBe(true);
              leaves[path.at(-1)!] = decide(a).choice;
            }
    expect(leaves).toMatchObject({
      rest: 'rest',
      sse: 'sse',
      webrtc: 'webrtc',
      'ws-opt': 'websocket',
      'uc-chat': 'websocket',
      'uc-gaming': 'websocket',
    });
    // Every leaf of the tree is reachable.
    const reached = new Set(Object.keys(leaves));
    for (const id of [
      'rest',
      'lp',
      'sse',
      'webrtc',
      'ws-opt',
      'uc-chat',
      'uc-gaming',
      'uc-collaboration',
      'uc-trading',
      'uc-dashboard',
    ])
      expect(reached.has(id), id).toBe(true);
  });
});
