// The guide's protocol decision tree and five-step matrix as a pure function: answers in, a recommendation with its reasons and lab links out.
import { getScenario } from '../../scenario/registry.ts';
import { resolveRun } from '../../scenario/resolve.ts';
import type { Protocol } from '../../scenario/schema.ts';
import { queryFromRun } from '../../scenario/url.ts';
import { GUIDE_WHEN, PROTOCOL_NAME, PROTOCOL_ORDER } from '../guide.ts';

export type Latency = 'under50ms' | 'under500ms' | 'under5s' | 'over5s';
export type Scale = 'under1k' | '1k-100k' | '100k-1m' | 'over1m';
export type UseCase =
  'chat' | 'gaming' | 'collaboration' | 'trading' | 'dashboard' | 'feed' | 'other';

export interface Answers {
  /** "Need real-time?" — no means a regular REST API. */
  realtime: boolean;
  latency: Latency;
  /** "Need bidirectional?" — do clients send updates on the same channel? */
  bidirectional: boolean;
  /** Asked only for two-way, under-50 ms needs: can clients talk to each other directly? */
  peerToPeer: boolean;
  scale: Scale;
  infra: {
    /** Step 4: the load balancers and proxies carry WebSocket. */
    websocket: boolean;
    firewall: boolean;
    mobileFirst: boolean;
    legacyBrowsers: boolean;
  };
  useCase: UseCase;
  /** Step 5: what the team already plans for. */
  failures: {
    reconnection: boolean;
    offlineStorage: boolean;
    circuitBreakers: boolean;
    healthMonitoring: boolean;
  };
}

export const DEFAULT_ANSWERS: Answers = {
  realtime: true,
  latency: 'under500ms',
  bidirectional: false,
  peerToPeer: false,
  scale: '1k-100k',
  infra: { websocket: true, firewall: false, mobileFirst: false, legacyBrowsers: false },
  useCase: 'feed',
  failures: {
    reconnection: true,
    offlineStorage: true,
    circuitBreakers: false,
    healthMonitoring: true,
  },
};

export const LATENCY_LABEL: Record<Latency, string> = {
  under50ms: 'under 50 ms',
  under500ms: 'under 500 ms',
  under5s: 'under 5 s',
  over5s: 'more than 5 s is fine',
};

export const SCALE_LABEL: Record<Scale, string> = {
  under1k: 'under 1K users',
  '1k-100k': '1K–100K users',
  '100k-1m': '100K–1M users',
  over1m: 'more than 1M users',
};

export const USE_CASE_LABEL: Record<UseCase, string> = {
  chat: 'Chat / messaging',
  gaming: 'Gaming',
  collaboration: 'Collaboration',
  trading: 'Trading',
  dashboard: 'Dashboard',
  feed: 'Feed / ticker',
  other: 'Something else',
};

export const FAILURE_LABEL: Record<keyof Answers['failures'], string> = {
  reconnection: 'Reconnection logic',
  offlineStorage: 'Offline message storage',
  circuitBreakers: 'Circuit breakers',
  healthMonitoring: 'Connection health monitoring',
};

/** What the wizard recommends: `rest` when real-time is not needed. */
export type Choice = Protocol | 'rest';

export interface Reason {
  /** Which part of the guide decided: "Step 1 · latency", "Decision tree", … */
  step: string;
  text: string;
}

export interface Recommendation {
  choice: Choice;
  title: string;
  /** The guide's "when to use" line for the choice. */
  when: string;
  /** Protocols worth comparing in the lab, the choice first; always at least two. */
  candidates: Protocol[];
  reasons: Reason[];
  /** Step 3: the architecture the scale calls for. */
  architecture: string;
  /** Step 5: each failure item, planned or still to plan. */
  failurePlan: { item: string; planned: boolean }[];
  notes: string[];
  /** Query strings (with a leading ?) that open the lab pre-configured. */
  openQuery: string;
  openLabel: string;
  compareQuery: string;
}

const name = (p: Protocol) => PROTOCOL_NAME[p];
const names = (ps: readonly Protocol[]) => ps.map(name).join(' or ');

/** Step 1's candidates by latency need (the guide's five-step matrix). */
const STEP1: Record<Latency, Protocol[]> = {
  under50ms: ['webrtc', 'websocket'],
  under500ms: ['websocket', 'sse'],
  under5s: ['long-polling'],
  over5s: ['polling'],
};

const STEP3: Record<Scale, string> = {
  under1k: 'Under 1K users: a single server, any protocol.',
  '1k-100k': '1K–100K users: several servers with Redis Pub/Sub between them.',
  '100k-1m': '100K–1M users: a WebSocket farm with Kafka behind it.',
  over1m: 'Over 1M users: multi-region, Kafka and a CDN.',
};

/** Clients simulated for each scale (the lab's protocol scenarios go up to 100,000). */
const CLIENTS: Record<Scale, number> = {
  under1k: 500,
  '1k-100k': 10_000,
  '100k-1m': 100_000,
  over1m: 100_000,
};

/** Share of updates clients send, by use case, when the channel is two-way. */
const CLIENT_SHARE: Record<UseCase, number> = {
  chat: 0.5,
  gaming: 0.5,
  collaboration: 0.4,
  trading: 0.2,
  dashboard: 0.1,
  feed: 0.1,
  other: 0.3,
};

/** The standard use cases of the tree's "not ultra-low latency" branch. */
const USE_CASE_PICK: Record<UseCase, { choice: Protocol; also: Protocol[]; text: string }> = {
  chat: { choice: 'websocket', also: [], text: 'Chat/Messaging → WebSocket' },
  gaming: { choice: 'websocket', also: ['webrtc'], text: 'Gaming → WebSocket or WebRTC' },
  collaboration: { choice: 'websocket', also: [], text: 'Collaboration → WebSocket' },
  trading: { choice: 'websocket', also: [], text: 'Trading → WebSocket' },
  dashboard: { choice: 'websocket', also: ['sse'], text: 'Dashboard → SSE or WebSocket' },
  feed: { choice: 'websocket', also: ['sse'], text: 'a feed that also takes input → WebSocket' },
  other: { choice: 'websocket', also: [], text: 'the standard two-way case → WebSocket' },
};

/** A protocol to set the choice against when the answers named only one. */
const NEIGHBOUR: Record<Protocol, Protocol> = {
  polling: 'long-polling',
  'long-polling': 'sse',
  sse: 'websocket',
  websocket: 'sse',
  webrtc: 'websocket',
};

function ordered(ps: Iterable<Protocol>): Protocol[] {
  const set = new Set(ps);
  return PROTOCOL_ORDER.filter((p) => set.has(p));
}

export function decide(a: Answers): Recommendation {
  const reasons: Reason[] = [];
  const notes: string[] = [];
  const failurePlan = (Object.keys(FAILURE_LABEL) as (keyof Answers['failures'])[]).map((k) => ({
    item: FAILURE_LABEL[k],
    planned: a.failures[k],
  }));
  const architecture = STEP3[a.scale];

  if (!a.realtime) {
    reasons.push({
      step: 'Decision tree',
      text: 'Need real-time? No → a regular REST API: the client asks when it needs data.',
    });
    notes.push(
      'The lab has no plain REST scenario; the polling scenario with a 60 s interval shows what asking on a timer costs, and the comparison sets it against long polling.',
    );
    return finish(
      a,
      'rest',
      ['polling', 'long-polling'],
      reasons,
      notes,
      architecture,
      failurePlan,
    );
  }

  // Step 1 and step 2 narrow the field; the decision tree picks within it.
  const step1 = STEP1[a.latency];
  reasons.push({
    step: 'Step 1 · latency',
    text: `${capitalise(LATENCY_LABEL[a.latency])} → ${step1.length > 1 ? names(step1) : name(step1[0])}${a.latency === 'under50ms' ? ' (optimised)' : ''}.`,
  });
  reasons.push({
    step: 'Step 2 · direction',
    text: a.bidirectional
      ? 'Bidirectional → WebSocket or WebRTC.'
      : 'Server → client only → SSE or Long Polling.',
  });

  let choice: Protocol;
  const candidates = new Set<Protocol>();
  if (!a.bidirectional) {
    if (a.latency === 'under50ms' || a.latency === 'under500ms') {
      choice = 'sse';
      reasons.push({
        step: 'Decision tree',
        text: 'Real-time, server → client only, latency under 1 s → SSE.',
      });
      if (a.latency === 'under50ms') {
        candidates.add('websocket');
        notes.push(
          "50 ms is the low end of the guide's SSE range (50–200 ms); compare it with WebSocket (10–100 ms) on your numbers.",
        );
      }
    } else if (a.latency === 'under5s') {
      choice = 'long-polling';
      reasons.push({
        step: 'Decision tree',
        text: 'Real-time, server → client only, latency over 1 s is fine → Long Polling.',
      });
      candidates.add('sse');
    } else {
      choice = 'polling';
      reasons.push({
        step: 'Decision tree',
        text: 'Server → client only with over 1 s allowed points to Long Polling; step 1 narrows "over 5 s" to simple polling.',
      });
      candidates.add('long-polling');
    }
  } else if (a.latency === 'under50ms') {
    choice = a.peerToPeer ? 'webrtc' : 'websocket';
    reasons.push({
      step: 'Decision tree',
      text: a.peerToPeer
        ? 'Bidirectional, ultra-low latency (< 50 ms), peer-to-peer possible → WebRTC.'
        : 'Bidirectional, ultra-low latency (< 50 ms), no peer-to-peer → WebSocket (optimised).',
    });
    candidates.add(a.peerToPeer ? 'websocket' : 'webrtc');
  } else {
    const pick = USE_CASE_PICK[a.useCase];
    choice = pick.choice;
    reasons.push({
      step: 'Decision tree',
      text: `Bidirectional, no ultra-low latency need → standard use case: ${pick.text}.`,
    });
    for (const p of pick.also) candidates.add(p);
    // Step 1 still speaks: a slow need can be met by the simpler request-based protocols, which
    // the guide's matrix marks bidirectional (SSE is not).
    for (const p of step1) if (p !== choice && p !== 'sse') candidates.add(p);
  }

  // Step 4: the infrastructure can overrule the tree.
  if (!a.infra.websocket && choice === 'websocket') {
    const next: Protocol = a.bidirectional ? 'long-polling' : 'sse';
    reasons.push({
      step: 'Step 4 · infrastructure',
      text: `No WebSocket support → ${name(next)} (the guide: long polling when you can't use WebSocket).`,
    });
    candidates.add(choice);
    choice = next;
  }
  if (a.infra.firewall && (choice === 'websocket' || choice === 'webrtc')) {
    const next: Protocol = a.bidirectional ? 'long-polling' : 'sse';
    reasons.push({
      step: 'Step 4 · infrastructure',
      text: `Firewall restrictions → SSE or Long Polling (the guide rates WebSocket "Mostly" and WebRTC "Complex" through firewalls) → ${name(next)}.`,
    });
    candidates.add(choice);
    if (a.bidirectional) candidates.add('sse');
    choice = next;
  } else if (a.infra.firewall) {
    reasons.push({
      step: 'Step 4 · infrastructure',
      text: `Firewall restrictions → SSE or Long Polling: ${name(choice)} passes as it is.`,
    });
  }
  if (a.infra.mobileFirst) {
    reasons.push({
      step: 'Step 4 · infrastructure',
      text: 'Mobile-first → consider battery: throttle updates; the lab runs it on an LTE radio and a 150 ms round trip.',
    });
    if (choice === 'polling')
      notes.push(
        'The guide rates polling\'s battery "Poor": a poll keeps waking the radio. Compare it with long polling.',
      );
  }
  if (a.infra.legacyBrowsers && (choice === 'sse' || choice === 'webrtc')) {
    reasons.push({
      step: 'Step 4 · infrastructure',
      text: `Legacy browsers → provide fallbacks: ${name(choice)} works in "Most" browsers, so keep Long Polling as the fallback.`,
    });
    candidates.add('long-polling');
  } else if (a.infra.legacyBrowsers) {
    reasons.push({
      step: 'Step 4 · infrastructure',
      text: `Legacy browsers → provide fallbacks; ${name(choice)} works in all browsers the guide lists.`,
    });
  }

  reasons.push({ step: 'Step 3 · scale', text: architecture });
  const missing = failurePlan.filter((f) => !f.planned).map((f) => f.item.toLowerCase());
  reasons.push({
    step: 'Step 5 · failures',
    text: missing.length
      ? `Still to plan: ${missing.join(', ')}. The lab run drops connections every 5 minutes so you can watch what that costs.`
      : 'Reconnection, offline storage, circuit breakers and health monitoring are all planned; the lab run drops connections every 5 minutes to exercise them.',
  });
  if (a.scale === 'over1m')
    notes.push(
      'The protocol scenarios simulate up to 100,000 clients; the two-hop-1m scenario shows a million users on 100 servers.',
    );
  candidates.delete(choice);
  return finish(
    a,
    choice,
    [choice, ...ordered(candidates)],
    reasons,
    notes,
    architecture,
    failurePlan,
  );
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function finish(
  a: Answers,
  choice: Choice,
  list: Protocol[],
  reasons: Reason[],
  notes: string[],
  architecture: string,
  failurePlan: Recommendation['failurePlan'],
): Recommendation {
  const candidates = [...new Set(list)];
  if (candidates.length < 2) candidates.push(NEIGHBOUR[candidates[0]]);
  const openId: Protocol = choice === 'rest' ? 'polling' : choice;
  const open = labQuery(openId, a, choice === 'rest', candidates);
  return {
    choice,
    title: choice === 'rest' ? 'A regular REST API' : name(choice),
    when:
      choice === 'rest'
        ? 'No real-time need: the client fetches when it needs data.'
        : GUIDE_WHEN[choice],
    candidates,
    reasons,
    architecture,
    failurePlan,
    notes,
    openQuery: open,
    openLabel:
      choice === 'rest' ? 'Open polling at a 60 s interval' : `Open the ${name(choice)} scenario`,
    compareQuery: labQuery('protocols', a, choice === 'rest', candidates),
  };
}

/**
 * A lab link whose parameters reflect the answers: clients for the scale, the clients' share of
 * updates for the direction, the radio and round trip for mobile-first, drops and heartbeats for
 * the failure plan. Built with resolveRun + queryFromRun, so every link is one the lab accepts.
 */
export function labQuery(
  scenarioId: Protocol | 'protocols',
  a: Answers,
  rest: boolean,
  arms: readonly Protocol[],
): string {
  const scenario = getScenario(scenarioId);
  const withWebrtc =
    scenarioId === 'webrtc' || (scenarioId === 'protocols' && arms.includes('webrtc'));
  const clients = CLIENTS[a.scale];
  const set: Record<string, number | string> = { clients };
  // Keep WebRTC's mesh groups at 4 peers (the scenarios' default) as the clients grow.
  if (withWebrtc) set.channels = Math.max(1, Math.ceil(clients / 4));
  // Big populations run a shorter stretch so the page stays lively.
  if (clients >= 100_000) set.duration = 60;
  if (scenarioId !== 'webrtc')
    set.clientShare = a.realtime && a.bidirectional ? CLIENT_SHARE[a.useCase] : 0;
  if (a.infra.mobileFirst) {
    set.radio = 'lte';
    set.rttMs = 150;
  } else set.radio = 'wifi';
  if (rest || a.latency === 'over5s') {
    set.pollIntervalS = rest ? 60 : 30;
    set.rate = rest ? 0.01 : 0.02;
  }
  if (a.infra.legacyBrowsers) set.http2 = 'off';
  // Step 5: make failures happen, and leave out what the team does not plan for.
  set.dropEveryS = 300;
  set.dropKind = 'silent';
  set.sseResume = a.failures.offlineStorage ? 'on' : 'off';
  set.missed = a.failures.offlineStorage ? 'buffer' : 'drop';
  set.sseRetryMs = a.failures.reconnection ? 3_000 : 30_000;
  if (a.failures.healthMonitoring) {
    set.heartbeatS = 15;
    set.timeoutS = 30;
  } else {
    set.heartbeatS = 120;
    set.timeoutS = 300;
  }
  const run = resolveRun(scenario, set, 1);
  const extra: Record<string, string> = {};
  if (scenarioId === 'protocols' && arms.length < PROTOCOL_ORDER.length)
    extra.arms = ordered(arms).join(',');
  return `?${queryFromRun(run, extra)}`;
}

/** A node of the guide's decision tree as the wizard draws it. */
export interface TreeNode {
  id: string;
  /** The answer that leads here from the parent ("YES", "< 1 s"), empty for the root. */
  edge: string;
  label: string;
  children?: TreeNode[];
}

const leaf = (id: string, edge: string, label: string): TreeNode => ({ id, edge, label });

/** The guide's decision tree, as the guide draws it. */
export const DECISION_TREE: TreeNode = {
  id: 'realtime',
  edge: '',
  label: 'Need real-time?',
  children: [
    leaf('rest', 'NO', 'Regular REST API'),
    {
      id: 'bidi',
      edge: 'YES',
      label: 'Need bidirectional?',
      children: [
        {
          id: 'oneway',
          edge: 'NO',
          label: 'Server → client only: latency requirement?',
          children: [leaf('lp', '> 1 s', 'Long Polling'), leaf('sse', '< 1 s', 'SSE')],
        },
        {
          id: 'ultra',
          edge: 'YES',
          label: 'Need ultra-low latency (< 50 ms)?',
          children: [
            {
              id: 'p2p',
              edge: 'YES',
              label: 'Peer-to-peer possible?',
              children: [
                leaf('webrtc', 'YES', 'WebRTC'),
                leaf('ws-opt', 'NO', 'WebSocket (optimized)'),
              ],
            },
            {
              id: 'standard',
              edge: 'NO',
              label: 'Standard use case',
              children: [
                leaf('uc-chat', 'Chat/Messaging', 'WebSocket'),
                leaf('uc-gaming', 'Gaming', 'WebSocket or WebRTC'),
                leaf('uc-collaboration', 'Collaboration', 'WebSocket'),
                leaf('uc-trading', 'Trading', 'WebSocket'),
                leaf('uc-dashboard', 'Dashboard', 'SSE or WebSocket'),
              ],
            },
          ],
        },
      ],
    },
  ],
};

/** The ids of the tree nodes the answers walk through, root first. */
export function treePath(a: Answers): string[] {
  if (!a.realtime) return ['realtime', 'rest'];
  const path = ['realtime', 'bidi'];
  if (!a.bidirectional) {
    const fast = a.latency === 'under50ms' || a.latency === 'under500ms';
    return [...path, 'oneway', fast ? 'sse' : 'lp'];
  }
  path.push('ultra');
  if (a.latency === 'under50ms') return [...path, 'p2p', a.peerToPeer ? 'webrtc' : 'ws-opt'];
  path.push('standard');
  const named = ['chat', 'gaming', 'collaboration', 'trading', 'dashboard'];
  if (named.includes(a.useCase)) path.push(`uc-${a.useCase}`);
  return path;
}
