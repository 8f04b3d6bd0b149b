// The guide's Example 10: 10,000 auctions, 100,000 watchers, a bid path with a concurrency control, a countdown on skewed clocks.
import type { ScenarioFile } from '../../src/scenario/schema.ts';
import { twoHopParameters } from '../shared/two-hop-parameters.ts';
import twoHop from '../two-hop.ts';

/** The shared knobs this case keeps (the source's rate and bursts belong to the bidders here). */
const KEEP = new Set([
  'duration',
  'users',
  'servers',
  'channels',
  'cores',
  'hop1LatencyMs',
  'hop1LatencyMsP99',
  'hop1Loss',
]);

export default {
  id: 'live-auction',
  title: 'Live auction: concurrent bids and a countdown',
  summary:
    '10,000 auctions and 100,000 watchers: bids race through a store with naive, optimistic or atomic updates, and every watcher counts down on its own clock.',
  prose: `The guide's auction platform. A bidder's \`POST /bid\` passes the **API gateway** (auth, a token-bucket rate limit), the **bidding service** (validate, check funds) and the **state store**, a single-threaded Redis that runs one command at a time. An accepted bid is published as \`BID_UPDATE\` through Redis pub/sub to the WebSocket servers and every watcher of that auction; the bidder it displaced hears from the **notification service**. Interest is skewed (Zipf): the hottest auction has about 10,000 watchers and draws bids many times a second, most have a handful.

Switch **concurrency control**. *naive* reads the current bid, decides, and writes — two commands with nothing held between them, so two bids that read the same price both "win" and the later write silently replaces the earlier: a **lost update**. *optimistic* is Redis \`WATCH\`/\`MULTI\`/\`EXEC\`: the write fails if the key changed since it was read, and the bid is retried. *atomic* is one server-side script that compares and sets. The guide's two simultaneous $105 bids run at 100 ms and 102 ms on the hottest auction: read who won and why.

The **countdown** follows the guide: the server sends \`timeRemaining\` and \`timestamp\`, the client shows \`remaining − (now − timestamp)\` and resyncs every 10 s. But \`now\` is the client's clock, so a client whose clock is 300 ms off ends its timer 300 ms off — resyncing cannot fix an offset. Set the timer to *receipt* (count down from when the message arrived) and the error shrinks to the message's one-way delay. A bid in the last 10 s extends the auction by 10 s (soft close).`,
  model: 'two-hop',
  durationS: 120,
  sampleIntervalMs: 1_000,
  topology: {
    ...twoHop.topology,
    users: 100_000,
    servers: 10,
    channels: 10_000,
    subscriptionsPerUser: 1,
    zipfExponent: 1,
    server: { ...twoHop.topology.server, cores: 4, maxConnections: 20_000 },
    app: {
      kind: 'live-auction',
      control: 'atomic',
      auctions: { startPrice: 100, minIncrement: 5, endFromS: 60, endToS: 120 },
      bids: { perWatcherPerSec: 0.002, maxIncrements: 3, rateLimitPerSec: 2, rateLimitBurst: 5 },
      bidPath: {
        gatewayUs: 1_000,
        serviceUs: 2_000,
        storeRttUs: 500,
        storeCommandUs: 20,
        decideUs: 1_000,
        maxRetries: 3,
        retryBackoffUs: 2_000,
        notifyUs: 20_000,
      },
      softClose: { windowS: 10, extendS: 10 },
      timer: { method: 'server-timestamp', resyncS: 10, clockOffsetSdMs: 150, clockDriftSdPpm: 20 },
      conflict: { enabled: true, firstAtMs: 100, secondAtMs: 102, amount: 105 },
    },
  },
  // The bidders publish; the rate here is the resync rate (0.1 per auction per second) and only
  // sets how many messages the trace samples.
  workload: {
    ...twoHop.workload,
    ratePerChannelPerSec: 0.1,
    payloadBytes: { kind: 'constant', value: 180 },
  },
  parameters: [
    {
      name: 'control',
      path: 'topology.app.control',
      kind: 'choice',
      group: 'Workload',
      label: 'Concurrency control',
      options: ['naive', 'optimistic', 'atomic'],
      description:
        'naive: read, decide, write; optimistic: WATCH/MULTI/EXEC with retries; atomic: one compare-and-set script.',
    },
    {
      name: 'timer',
      path: 'topology.app.timer.method',
      kind: 'choice',
      group: 'Workload',
      label: 'Countdown',
      options: ['server-timestamp', 'receipt'],
      description:
        'server-timestamp: the guide’s remaining − (now − timestamp) on the client’s clock; receipt: count down from the message’s arrival.',
    },
    {
      name: 'clockOffsetSdMs',
      path: 'topology.app.timer.clockOffsetSdMs',
      kind: 'number',
      group: 'Workload',
      label: 'Client clock offset (sd)',
      unit: 'ms',
      min: 0,
      max: 10_000,
      step: 10,
      description: 'How far clients’ clocks are from the server’s (normal, mean 0).',
    },
    {
      name: 'bidRate',
      path: 'topology.app.bids.perWatcherPerSec',
      kind: 'number',
      group: 'Workload',
      label: 'Bids per watcher',
      unit: '/s',
      min: 0,
      max: 1,
      step: 0.001,
      description: 'Each watcher’s bid rate; a hot auction’s bids grow with its watchers.',
    },
    {
      name: 'decideUs',
      path: 'topology.app.bidPath.decideUs',
      kind: 'number',
      group: 'Servers',
      label: 'Read → write gap',
      unit: 'µs',
      min: 0,
      max: 1_000_000,
      step: 100,
      log: true,
      description:
        'Naive and optimistic: the service’s work between reading the bid and writing it.',
    },
    {
      name: 'storeCommandUs',
      path: 'topology.app.bidPath.storeCommandUs',
      kind: 'number',
      group: 'Servers',
      label: 'Store command',
      unit: 'µs',
      min: 1,
      max: 100_000,
      step: 1,
      log: true,
      description: 'The store’s time per command; it runs one at a time.',
    },
    {
      name: 'endFromS',
      path: 'topology.app.auctions.endFromS',
      kind: 'number',
      group: 'Workload',
      label: 'Auctions end from',
      unit: 's',
      min: 1,
      max: 3_600,
      step: 1,
      description: 'Auctions end uniformly between this time of the run and the next.',
    },
    {
      name: 'endToS',
      path: 'topology.app.auctions.endToS',
      kind: 'number',
      group: 'Workload',
      label: 'Auctions end by',
      unit: 's',
      min: 1,
      max: 3_600,
      step: 1,
      description: 'The latest end (soft close may push an auction past it).',
    },
    {
      name: 'zipf',
      path: 'topology.zipfExponent',
      kind: 'number',
      group: 'Topology',
      label: 'Interest skew (Zipf)',
      unit: '',
      min: 0,
      max: 3,
      step: 0.1,
      description: '0: every auction equally watched; 1: the hottest has ~10% of watchers.',
    },
    ...(twoHopParameters ?? []).filter((p) => KEEP.has(p.name)),
  ],
} satisfies ScenarioFile;
