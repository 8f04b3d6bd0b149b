// The shaping block every shaped scenario starts from (every stage off), and the knobs it offers.
import type { ShapingSpec } from '../../src/scenario/shaping-schema.ts';
import { choice, num, offNum, type Param } from './params.ts';

/** Every stage off: payloads come from the update schema, sent one frame per update. */
export const shapingOff: ShapingSpec = {
  updates: { schema: 'stock-price', classMix: { P0: 0, P1: 1, P2: 0, P3: 0 } },
  userClasses: [{ name: 'all', share: 1, extraLatencyMs: 0 }],
  subscriptions: {
    candidatesPerUser: 1,
    churnPerUserPerMin: 0,
    mode: 'exact',
    sectorSize: 10,
    // A hash-set insert or delete in each index, plus bookkeeping: a few microseconds.
    subscribeCostUs: 5,
    // Redis matches a PUBLISH against every pattern with a glob match: tens of ns each.
    patternMatchCostUs: 0.05,
  },
  audience: { mode: 'subscribers', regions: 10, permissionLevels: 4, filterCostUs: 0.2 },
  throttle: { perKeyHz: 'off', perConnectionHz: 'off' },
  conflation: { mode: 'off', key: 'symbol', intervalMs: 100 },
  batch: { windowMs: 0, maxMessages: 100, maxBytes: 65_536 },
  encoding: { format: 'json', deflate: 'off', contextTakeover: 'on' },
  delta: { mode: 'off', snapshotEvery: 100 },
  priorities: {
    mode: 'off',
    overload: 'delay',
    // The guide's classes: P0 immediate, P1 < 100 ms, P2 < 1 s (batched every 1 s), P3 < 5 s (every 5 s).
    classes: {
      P0: { deadlineMs: 50, batchWindowMs: 0 },
      P1: { deadlineMs: 100, batchWindowMs: 0 },
      P2: { deadlineMs: 1_000, batchWindowMs: 1_000 },
      P3: { deadlineMs: 5_000, batchWindowMs: 5_000 },
    },
  },
};

const at = (path: string) => `topology.shaping.${path}`;

/** The shaping knobs, by the names the lab, the URL and `--set` share. */
export const shapingParameters: Param[] = [
  num(
    'batchWindowMs',
    at('batch.windowMs'),
    'Shaping',
    'Batch window',
    'ms',
    0,
    5_000,
    10,
    'Collect each connection’s updates for this long and send them as one frame (0 = off).',
  ),
  num(
    'batchMaxMessages',
    at('batch.maxMessages'),
    'Shaping',
    'Batch size limit',
    'updates',
    1,
    1_000,
    1,
    'A batch is sent early once it holds this many updates.',
  ),
  offNum(
    'throttleHz',
    at('throttle.perKeyHz'),
    'Shaping',
    'Throttle per key',
    'updates/s',
    0.1,
    1_000,
    0.1,
    'At most this many updates per second of one key (a stock) on each server’s stream; off = no limit.',
    true,
  ),
  offNum(
    'connectionHz',
    at('throttle.perConnectionHz'),
    'Shaping',
    'Throttle per connection',
    'frames/s',
    0.1,
    1_000,
    0.1,
    'At most this many frames per second on one connection; off = no limit.',
    true,
  ),
  choice(
    'conflation',
    at('conflation.mode'),
    'Shaping',
    'Conflation',
    ['off', 'merge', 'drop'],
    'Where an update waits (a throttle, a batch, a backed-up connection) a newer one for the same key replaces it: merge keeps every changed field, drop only the newest update’s.',
  ),
  choice(
    'encoding',
    at('encoding.format'),
    'Shaping',
    'Encoding',
    ['json', 'json-pretty', 'msgpack', 'protobuf'],
    'How each update is serialised; sizes and CPU come from the real encoders.',
  ),
  choice(
    'deflate',
    at('encoding.deflate'),
    'Shaping',
    'permessage-deflate',
    ['off', 'on'],
    'Compress every WebSocket message (RFC 7692).',
  ),
  choice(
    'contextTakeover',
    at('encoding.contextTakeover'),
    'Shaping',
    'Deflate context takeover',
    ['on', 'off'],
    'Keep the compression dictionary between a connection’s messages: smaller messages, a compressor per connection.',
  ),
  choice(
    'delta',
    at('delta.mode'),
    'Shaping',
    'Delta updates',
    ['off', 'on'],
    'Send only the fields that changed since the client’s last state.',
  ),
  num(
    'snapshotEvery',
    at('delta.snapshotEvery'),
    'Shaping',
    'Snapshot every',
    'updates',
    1,
    10_000,
    1,
    'With deltas, a full snapshot of each key every N updates.',
    true,
  ),
  choice(
    'priorities',
    at('priorities.mode'),
    'Shaping',
    'Priority queues',
    ['off', 'on'],
    'Strict priority P0 > P1 > P2 > P3 on the servers’ cores; P2 and P3 batched every 1 s and 5 s.',
  ),
  choice(
    'overload',
    at('priorities.overload'),
    'Shaping',
    'Under overload',
    ['delay', 'shed'],
    'With priorities: lower classes wait (delay), or a send past its class deadline is dropped (shed).',
  ),
];
