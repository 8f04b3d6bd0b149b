// The scenarios' groups (the lab's picker, the CLI's list): protocols, distribution, failures, scale, shaping and case studies, in that order; empty groups are left out.
import type { LoadedScenario } from './resolve.ts';

export interface ScenarioGroup {
  label: string;
  scenarios: LoadedScenario[];
}

/** Which group each scenario belongs to, by id; the registry decides the order inside a group. */
const GROUPS: { label: string; ids: readonly string[] }[] = [
  {
    label: 'Protocols',
    ids: ['protocols', 'polling', 'long-polling', 'sse', 'websocket', 'webrtc'],
  },
  {
    label: 'Distribution',
    ids: [
      'two-hop',
      'direct-polling',
      'redis-pubsub',
      'kafka',
      'load-balancing',
      'production-multi-region',
    ],
  },
  { label: 'Failures', ids: ['reconnect-storm', 'broker-failure'] },
  {
    label: 'Scale',
    ids: ['two-hop-1m', 'scale-small', 'scale-medium', 'scale-large', 'scale-internet'],
  },
  {
    label: 'Shaping',
    ids: [
      'subscriptions',
      'selective-broadcast',
      'batching',
      'throttling',
      'conflation',
      'compression',
      'delta-updates',
      'priority-queues',
    ],
  },
  { label: 'Case studies', ids: [] },
];

/** A case study is a scenario that hosts an application (`topology.app`): no list to keep. */
const CASES = GROUPS.length - 1;

function isCaseStudy(s: LoadedScenario): boolean {
  return 'app' in s.topology && s.topology.app !== undefined;
}

/** A scenario no group names yet (a new file) still shows up, under "More". */
const OTHER = 'More';

export function scenarioGroups(scenarios: readonly LoadedScenario[]): ScenarioGroup[] {
  const out = [...GROUPS, { label: OTHER, ids: [] }].map((g) => ({
    label: g.label,
    scenarios: [] as LoadedScenario[],
  }));
  for (const s of scenarios) {
    const i = isCaseStudy(s) ? CASES : GROUPS.findIndex((g) => g.ids.includes(s.id));
    out[i < 0 ? out.length - 1 : i].scenarios.push(s);
  }
  return out.filter((g) => g.scenarios.length > 0);
}
