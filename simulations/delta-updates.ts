// Delta updates (Optimization 3): only the fields that changed since the client's last state, snapshots and resyncs.
import { shapedTwoHop } from './shared/shaped-two-hop.ts';

export default shapedTwoHop({
  id: 'delta-updates',
  title: 'Delta updates',
  summary:
    'Live scores send only what changed since each client’s last state, with a full snapshot every N updates and a resync when a client lost its base.',
  prose: `Fifty games publish score updates (\`score-update\`: game, home, away, clock, period, last event) a few times a second. With \`delta=on\` each server sends a field only when it changed since the last update the client holds: mostly the clock and the last event; the score and the period rarely. The server knows what it wrote to each connection, so whenever a client's **base** is missing — its first update, a subscription taken up again, or a frame its full send buffer refused — it sends a **full snapshot** instead (a *resync*, counted). Every \`snapshotEvery\` updates everyone gets a snapshot anyway, as Ably's and Centrifugo's delta streams do.

A tenth of the users sit on a link so slow that their send buffer sometimes overflows (\`slowMbps\`): their lost frames are what forces resyncs. Hoplab replays what each probe client applied and checks that its reconstructed state equals the source's state at the last update it applied (the delta-state checker).

How much a delta saves depends on how much of the object changes and how small the object already is. The guide's "50 KB → 500 bytes (100x)" is a 100-player game state where two players moved; a six-field score where the clock changes on nine updates in ten saves far less, and framing eats part of that: read the claims table.`,
  durationS: 20,
  sampleIntervalMs: 250,
  topology: {
    users: 2_000,
    servers: 2,
    channels: 50,
    subscriptionsPerUser: 3,
    server: { sendBufferKB: 4 },
  },
  workload: { ratePerChannelPerSec: 5, arrival: 'poisson' },
  shaping: {
    updates: { schema: 'score-update' },
    conflation: { key: 'gameId' },
    userClasses: [
      { name: 'broadband', share: 0.9, extraLatencyMs: 0 },
      { name: 'weak-link', share: 0.1, bandwidthMbps: 0.012, extraLatencyMs: 80 },
    ],
    delta: { mode: 'on', snapshotEvery: 50 },
  },
  parameters: [
    {
      name: 'slowMbps',
      path: 'topology.shaping.userClasses.1.bandwidthMbps',
      kind: 'number',
      group: 'Shaping',
      label: 'Weak link',
      unit: 'Mbit/s',
      min: 0.01,
      max: 100,
      step: 0.01,
      log: true,
      description:
        'Downlink of the tenth of the users on a weak link (their send buffers overflow).',
    },
  ],
  claims: [
    {
      id: 'delta-size',
      claim: 'Delta: 500 bytes per update (100x smaller!)',
      source: 'Performance Optimization › 3. Delta Updates',
      metric: 'shaping.bytesPerUpdate',
      measure: 'ratio',
      base: { delta: 'off' },
      with: {},
      guide: { min: 100, max: 100 },
      tolerance: 20,
      unit: 'x',
      why: 'A delta is as small as what changed: here the clock and last event change on most updates, and every message still carries the game id and its framing, so a delta is not even half the size of a full update.',
    },
    {
      id: 'delta-fortnite',
      claim: 'Full state: 500 bytes • Delta: 50 bytes (10x smaller)',
      source: 'Real-World Examples › Multiplayer gaming › 2. Delta Compression',
      metric: 'shaping.bytesPerUpdate',
      measure: 'ratio',
      base: { delta: 'off' },
      with: {},
      guide: { min: 10, max: 10 },
      tolerance: 2,
      unit: 'x',
      why: 'The ratio is the share of the object that stays the same; for a small object with a fast-changing field it is close to 1 once framing is counted.',
    },
  ],
});
