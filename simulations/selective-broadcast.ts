// Selective broadcasting (Pattern 3): every update to everyone, or only to who asked, who is near, or who may see it.
import { choice, num } from './shared/params.ts';
import { shapedTwoHop } from './shared/shaped-two-hop.ts';

export default shapedTwoHop({
  id: 'selective-broadcast',
  title: 'Selective broadcasting',
  summary:
    'Updates for 100 resources sent to all 10,000 users, or only to the 1% that subscribed: the guide’s "100x more efficient", measured.',
  prose: `Ten thousand users each follow **one of 100 resources** (say, stocks); every resource updates once a second. \`audience=subscribers\` (the default) looks up the reverse index and writes to the ~100 subscribers of each update; \`audience=all\` writes every update to every connected user — the guide's "99% don't care about this update". The fan-out, the bytes and the servers' CPU show what that costs.

Two filtered audiences show what filtering itself costs. \`audience=region\` sends an update only to the users in its region (a geo cell, 10 of them here) — but finding them means **scanning** every user on the server for each update (\`filterCostUs\` per user), which is why location systems keep a geo index instead. \`audience=permission\` keeps the subscription index and checks each subscriber's permission level against the update's: cheap per check, and a user who may not see an update gets nothing (counted as saved).

The guide's rule of thumb: under 1,000 users broadcast is fine, above 10,000 be selective — lower \`users\` and compare the servers' CPU.`,
  durationS: 10,
  sampleIntervalMs: 250,
  topology: { users: 10_000, servers: 4, channels: 100, subscriptionsPerUser: 1 },
  workload: { ratePerChannelPerSec: 1, arrival: 'poisson' },
  shaping: {
    audience: { mode: 'subscribers', regions: 10, permissionLevels: 4, filterCostUs: 0.2 },
  },
  parameters: [
    choice(
      'audience',
      'topology.shaping.audience.mode',
      'Shaping',
      'Audience',
      ['subscribers', 'all', 'region', 'permission'],
      'Who gets an update: its subscribers, every connected user, the users of its region, or subscribers allowed to see it.',
    ),
    num(
      'filterCostUs',
      'topology.shaping.audience.filterCostUs',
      'Shaping',
      'Filter cost',
      'µs per user',
      0,
      100,
      0.05,
      'Server CPU to evaluate the audience filter for one candidate user.',
    ),
  ],
  claims: [
    {
      id: 'selective-efficiency',
      claim: 'Send only to those 1,000 users → 100x more efficient!',
      source: 'Design Patterns › Pattern 3: Selective Broadcasting',
      metric: 'shaping.updatesSent',
      measure: 'ratio',
      base: { audience: 'all' },
      with: {},
      guide: { min: 100, max: 100 },
      tolerance: 10,
      unit: 'x',
      why: 'With 1% of the users subscribed to each resource, a broadcast writes 100 times as many frames as the subscribers need.',
    },
    {
      id: 'selective-cpu',
      claim: 'Broadcast to all: wasted bandwidth and processing',
      source: 'Design Patterns › Pattern 3: Selective Broadcasting',
      metric: 'shaping.serverCpuUs',
      measure: 'ratio',
      base: { audience: 'all' },
      with: {},
      guide: { min: 100, max: 100 },
      tolerance: 25,
      unit: 'x',
      why: 'Server CPU follows the frames written; what does not scale down is the per-update work (taking it off Redis, encoding it once), so the CPU ratio is a little below the frame ratio.',
    },
  ],
});
