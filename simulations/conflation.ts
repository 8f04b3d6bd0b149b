// Conflation for slow clients (the order book's "merge multiple updates into one"): fresh values instead of a backlog.
import { shapedTwoHop } from './shared/shaped-two-hop.ts';

export default shapedTwoHop({
  id: 'conflation',
  title: 'Conflation for slow clients',
  summary:
    'One symbol ticks 1,000 times a second; half the users are on a link that cannot keep up. Conflation sends them the latest value, not a backlog.',
  prose: `A busy symbol updates about **1,000 times a second**. A hundred users watch it. Desktop users (50 Mbit/s) take every update; mobile users on a weak link (0.3 Mbit/s, the \`slowMbps\` knob) cannot: each update costs about 130 bytes on the wire, so 1,000 a second is about 1 Mbit/s. Without conflation (\`conflation=off\`) the server keeps writing into a mobile user's socket until its send buffer is full, then drops what does not fit: latency grows to seconds and the screen shows ever older prices.

With **conflation** the server notices a backed-up connection (more than one conflation interval, 100 ms, of bytes queued) and stops writing to it; updates for that connection wait in its outbox, where a newer update for the same symbol replaces the one waiting (\`merge\` keeps every field that changed, so a delta stays correct; \`drop\` keeps only the newest update and must then send the full value). When the socket drains the newest value goes. Mobile users get what their link can carry — a couple of hundred updates a second instead of a thousand — and each of them is the newest: the screen is never more than about a conflation interval behind. The guide describes a fixed interval instead ("10 updates in 100 ms → 1 combined delta"), which sends fewer messages but makes even a link that could carry more wait for the interval.

Desktop users never back up, so conflation never touches them: compare the two user classes in the figures.`,
  durationS: 20,
  sampleIntervalMs: 250,
  topology: {
    users: 100,
    servers: 1,
    channels: 1,
    subscriptionsPerUser: 1,
    links: { serverToUser: { bandwidthMbps: 50 } },
  },
  workload: { ratePerChannelPerSec: 1_000, arrival: 'poisson' },
  shaping: {
    userClasses: [
      { name: 'desktop', share: 0.5, bandwidthMbps: 50, extraLatencyMs: 0 },
      { name: 'mobile', share: 0.5, bandwidthMbps: 0.3, extraLatencyMs: 40 },
    ],
    conflation: { mode: 'merge', intervalMs: 100 },
    delta: { mode: 'on', snapshotEvery: 1_000 },
  },
  parameters: [
    {
      name: 'slowMbps',
      path: 'topology.shaping.userClasses.1.bandwidthMbps',
      kind: 'number',
      group: 'Shaping',
      label: 'Mobile link',
      unit: 'Mbit/s',
      min: 0.05,
      max: 100,
      step: 0.05,
      log: true,
      description: 'Downlink of the mobile half of the users.',
    },
  ],
  claims: [
    {
      id: 'conflation-messages',
      claim: '10 updates in 100ms → 1 combined delta: 10x fewer messages',
      source: 'Real-World Examples › Crypto order book › 1. Conflation (slow clients)',
      metric: 'shaping.perUserClass.1.messagesPerSecPerUser',
      measure: 'ratio',
      base: { slowMbps: 50 },
      with: {},
      guide: { min: 10, max: 10 },
      tolerance: 3,
      unit: 'x',
      why: 'Here conflation follows the connection: a slow client gets as many updates as its link can carry (the newest value of each, folded while the socket drains), not a fixed one per 100 ms. The fewer messages depend on the link, not on an interval; a fixed 100 ms interval would give 10x at the price of up to 100 ms of extra staleness even on a link that could carry more.',
    },
    {
      id: 'conflation-staleness',
      claim: 'Result: 10x fewer messages, slight staleness',
      source: 'Real-World Examples › Crypto order book › 1. Conflation (slow clients)',
      metric: 'shaping.perUserClass.1.staleness.p99Ms',
      measure: 'value',
      with: {},
      guide: { min: 0, max: 300 },
      tolerance: 0,
      unit: 'ms',
      why: 'A mobile user’s screen is at most one conflation interval plus its slower link behind the market. Without conflation (run it) its backlog makes it seconds behind.',
    },
  ],
});
