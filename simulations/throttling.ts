// Throttling (Optimization 1, Robinhood's "max 1 update/sec per stock"): the latest value per key, at most once a second.
import { shapedTwoHop } from './shared/shaped-two-hop.ts';

export default shapedTwoHop({
  id: 'throttling',
  title: 'Throttling per key',
  summary:
    'Stocks tick 100 times a second; each server sends at most one update per stock per second, always the newest.',
  prose: `Twenty stocks each tick about **100 times a second** and every user watches five of them: unthrottled, each connection would carry about 500 updates a second that no one can read. With \`throttleHz=1\` each server lets through at most one update per stock per second on its stream; with **conflation** on (\`conflation=merge\`, the default here) the update that goes out when the second is up is the newest one, every field that changed meanwhile included — the guide's "keep only latest update per second".

Two numbers move apart here, and the guide calls both "latency". The values a user receives are **fresh** — the newest price, a few milliseconds old when it leaves the server — but the screen is **stale** between updates: up to a second behind the market. The staleness chart measures that: how long each probe user has been showing a value the source has already replaced.

Switch conflation off (\`conflation=off\`) and the throttle turns into a queue: every update still has to go, one per second, so the backlog grows by 99 updates a second and what users see falls further behind the longer the run lasts. That is why a throttle needs conflation.`,
  durationS: 20,
  sampleIntervalMs: 250,
  topology: { users: 200, servers: 2, channels: 20, subscriptionsPerUser: 5 },
  workload: { ratePerChannelPerSec: 100, arrival: 'poisson' },
  shaping: { throttle: { perKeyHz: 1 }, conflation: { mode: 'merge' } },
  claims: [
    {
      id: 'throttle-messages',
      claim: 'Max 1 update/sec per stock to client → 99% reduction in messages',
      source: 'Real-World Examples › Robinhood › 2. Throttling',
      metric: 'shaping.messagesPerSecPerUser',
      measure: 'change',
      base: { throttleHz: 'off' },
      with: {},
      guide: { min: -0.99, max: -0.99 },
      tolerance: 0.005,
      unit: 'share',
      why: 'A stock that ticks 100 times a second and may send once a second sends 1% of its updates.',
    },
    {
      id: 'throttle-bandwidth',
      claim: 'Bandwidth: 99% reduction',
      source: 'Performance Optimization › 1. Throttling',
      metric: 'shaping.bytesPerSecPerUser',
      measure: 'change',
      base: { throttleHz: 'off' },
      with: {},
      guide: { min: -0.99, max: -0.99 },
      tolerance: 0.005,
      unit: 'share',
      why: 'Bytes fall with messages: each update that goes is a full one, so 1% of the messages is 1% of the bytes.',
    },
    {
      id: 'throttle-latency',
      claim: 'Latency: +1 second (acceptable)',
      source: 'Performance Optimization › 1. Throttling',
      metric: 'latencyMs.p50',
      measure: 'difference',
      base: { throttleHz: 'off' },
      with: {},
      guide: { min: 1000, max: 1000 },
      tolerance: 100,
      unit: 'ms',
      why: 'With conflation the update that leaves at the end of each second is the newest, created moments before: delivered values are barely older than unthrottled ones. The second shows up as staleness instead (next claim).',
    },
    {
      id: 'throttle-staleness',
      claim: 'Latency: +1 second (acceptable)',
      source: 'Performance Optimization › 1. Throttling',
      metric: 'shaping.staleness.p99Ms',
      measure: 'value',
      with: {},
      guide: { min: 1000, max: 1000 },
      tolerance: 150,
      unit: 'ms',
      why: 'Between two throttled updates the screen shows a value the market has already replaced: for up to the whole second (its 99th percentile), on average for half of it; the network adds its own delay on top.',
    },
  ],
});
