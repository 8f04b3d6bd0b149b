// A scenario's shaping block, checked against its update schema and turned into the numbers the models use (µs, bit masks).
import { ScenarioError } from '../../scenario/errors.ts';
import type { ShapingSpec } from '../../scenario/shaping-schema.ts';
import { getUpdateSchema, type UpdateSchema } from './encoding/schemas.ts';
import { bytesPerUpdateTable, shapeTable, type ShapeTable } from './encoding/measure.ts';
import type { TopologyStage } from '../types.ts';
import { CLASSES } from './priority.ts';

export interface UserClass {
  name: string;
  share: number;
  /** Downlink bandwidth, bits per µs (= Mbit/s); 0 = the scenario link's. */
  bitsPerUs: number;
  extraLatencyUs: number;
}

/** The shaping stages as the models read them; a stage that is off has its zero value. */
export interface ShapingConfig {
  readonly schema: UpdateSchema;
  readonly table: ShapeTable;
  /** Cumulative shares of P0..P3, for drawing an update's class. */
  readonly classCumulative: Float64Array;
  readonly userClasses: UserClass[];
  readonly candidatesPerUser: number;
  readonly churnPerUserPerUs: number;
  readonly pattern: boolean;
  readonly sectorSize: number;
  readonly subscribeCostUs: number;
  readonly patternMatchCostUs: number;
  readonly audience: ShapingSpec['audience']['mode'];
  readonly regions: number;
  readonly permissionLevels: number;
  readonly filterCostUs: number;
  /** Per key: the shortest gap between two updates of one key on a server's stream (0 = off). */
  readonly perKeyIntervalUs: number;
  /** Per connection: the shortest gap between two frames (0 = off). */
  readonly perConnectionIntervalUs: number;
  readonly conflation: 'off' | 'merge' | 'drop';
  readonly conflationIntervalUs: number;
  readonly batchWindowUs: number;
  readonly batchMaxMessages: number;
  readonly batchMaxBytes: number;
  readonly delta: boolean;
  readonly snapshotEvery: number;
  readonly deflate: boolean;
  readonly contextTakeover: boolean;
  readonly priorities: boolean;
  readonly shed: boolean;
  readonly deadlineUs: Float64Array;
  /** Lanes of the per-connection outbox: one, or one per priority class with its own window. */
  readonly lanes: number;
  /** Batching window of each lane (0: sent at once unless the connection is throttled or backed up). */
  readonly laneWindowUs: Float64Array;
  readonly spec: ShapingSpec;
}

const rateIntervalUs = (hz: number | 'off') => (hz === 'off' ? 0 : 1e6 / hz);

/** Checks the block against its update schema and the model, and normalises it. */
export function shapingConfig(spec: ShapingSpec, model: 'two-hop' | 'cluster'): ShapingConfig {
  const schema = getUpdateSchema(spec.updates.schema);
  const fields = schema.fields.map((f) => f.name);
  if (!fields.includes(spec.conflation.key))
    throw new ScenarioError(
      'shaping.conflation.key',
      `${JSON.stringify(spec.conflation.key.slice(0, 40))} is not a field of ${schema.id}; its fields: ${fields.join(', ')}`,
    );
  if (spec.conflation.key !== schema.key)
    throw new ScenarioError(
      'shaping.conflation.key',
      `conflating on ${spec.conflation.key} would fold different items together; the item key of ${schema.id} is ${schema.key}`,
    );
  const audience = spec.audience.mode;
  if (spec.delta.mode === 'on' && (audience === 'all' || audience === 'region'))
    throw new ScenarioError(
      'delta',
      `deltas need each client's last state per subscription; audience ${audience} sends to users without one (use subscribers or permission)`,
    );
  if (model === 'cluster') {
    // Each cluster user follows one channel with sequence numbers, acks and resume: the
    // stages that need subscription sets, per-field state or their own scheduler run on two-hop.
    const twoHopOnly: [boolean, string, string][] = [
      [audience !== 'subscribers', 'shaping.audience', 'audience filters'],
      [spec.subscriptions.churnPerUserPerMin > 0, 'shaping.subscriptions', 'subscription churn'],
      [spec.delta.mode === 'on', 'delta', 'delta updates'],
      [spec.priorities.mode === 'on', 'priorities', 'priority queues'],
      [spec.throttle.perConnectionHz !== 'off', 'connectionHz', 'per-connection throttles'],
      [spec.userClasses.length > 1, 'shaping.userClasses', 'user classes'],
    ];
    for (const [on, field, what] of twoHopOnly)
      if (on)
        throw new ScenarioError(
          field,
          `${what} run on the two-hop model; the cluster model shapes with per-key throttles, conflation, batching and encodings`,
        );
  }
  const shares = spec.updates.classMix;
  const classCumulative = new Float64Array(CLASSES);
  let acc = 0;
  [shares.P0, shares.P1, shares.P2, shares.P3].forEach((v, i) => {
    acc += v;
    classCumulative[i] = acc;
  });
  classCumulative[CLASSES - 1] = 1;
  const priorities = spec.priorities.mode === 'on';
  const policies = spec.priorities.classes;
  const ordered = [policies.P0, policies.P1, policies.P2, policies.P3];
  const lanes = priorities ? CLASSES : 1;
  const laneWindowUs = new Float64Array(lanes);
  for (let l = 0; l < lanes; l++)
    laneWindowUs[l] = priorities
      ? Math.max(ordered[l].batchWindowMs, spec.batch.windowMs) * 1000
      : spec.batch.windowMs * 1000;
  return {
    schema,
    table: shapeTable(schema.id, {
      encoding: spec.encoding.format,
      deflate: spec.encoding.deflate === 'on',
      contextTakeover: spec.encoding.contextTakeover === 'on',
    }),
    classCumulative,
    userClasses: spec.userClasses.map((c) => ({
      name: c.name,
      share: c.share,
      bitsPerUs: c.bandwidthMbps ?? 0,
      extraLatencyUs: c.extraLatencyMs * 1000,
    })),
    candidatesPerUser: spec.subscriptions.candidatesPerUser,
    churnPerUserPerUs: spec.subscriptions.churnPerUserPerMin / 60e6,
    pattern: spec.subscriptions.mode === 'pattern',
    sectorSize: spec.subscriptions.sectorSize,
    subscribeCostUs: spec.subscriptions.subscribeCostUs,
    patternMatchCostUs: spec.subscriptions.patternMatchCostUs,
    audience,
    regions: spec.audience.regions,
    permissionLevels: spec.audience.permissionLevels,
    filterCostUs: spec.audience.filterCostUs,
    perKeyIntervalUs: rateIntervalUs(spec.throttle.perKeyHz),
    perConnectionIntervalUs: rateIntervalUs(spec.throttle.perConnectionHz),
    conflation: spec.conflation.mode,
    conflationIntervalUs: spec.conflation.intervalMs * 1000,
    batchWindowUs: spec.batch.windowMs * 1000,
    batchMaxMessages: spec.batch.maxMessages,
    batchMaxBytes: spec.batch.maxBytes,
    delta: spec.delta.mode === 'on',
    snapshotEvery: spec.delta.snapshotEvery,
    deflate: spec.encoding.deflate === 'on',
    contextTakeover: spec.encoding.contextTakeover === 'on',
    priorities,
    shed: spec.priorities.overload === 'shed',
    deadlineUs: Float64Array.from(ordered.map((p) => p.deadlineMs * 1000)),
    lanes,
    laneWindowUs,
    spec,
  };
}

/** The stages that are switched on, by name, as the topology and the result list them. */
export function activeStages(c: ShapingConfig): string[] {
  const on: string[] = [];
  if (c.churnPerUserPerUs > 0 || c.pattern) on.push('subscriptions');
  if (c.audience !== 'subscribers') on.push('selective');
  if (c.perKeyIntervalUs > 0 || c.perConnectionIntervalUs > 0) on.push('throttle');
  if (c.conflation !== 'off') on.push('conflation');
  if (c.batchWindowUs > 0) on.push('batching');
  if (c.delta) on.push('delta');
  if (c.deflate) on.push('compression');
  if (c.priorities) on.push('priorities');
  return on;
}

/** Where each active stage sits and what it is set to, for the topology view. */
export function stageLabels(c: ShapingConfig): TopologyStage[] {
  const out: TopologyStage[] = [];
  const hz = (us: number) => `${+(1e6 / us).toFixed(2)}/s`;
  for (const name of activeStages(c)) {
    switch (name) {
      case 'subscriptions':
        out.push({
          name,
          at: 'broker',
          label: c.pattern ? 'pattern subscriptions' : 'live subscriptions',
        });
        break;
      case 'selective':
        out.push({ name, at: 'server', label: `audience: ${c.audience}` });
        break;
      case 'throttle':
        out.push({
          name,
          at: c.perKeyIntervalUs > 0 ? 'server' : 'connection',
          label: [
            c.perKeyIntervalUs > 0 ? `throttle ${hz(c.perKeyIntervalUs)} per key` : '',
            c.perConnectionIntervalUs > 0 ? `${hz(c.perConnectionIntervalUs)} per connection` : '',
          ]
            .filter(Boolean)
            .join(', '),
        });
        break;
      case 'conflation':
        out.push({ name, at: 'connection', label: `conflate (${c.conflation})` });
        break;
      case 'batching':
        out.push({ name, at: 'connection', label: `batch ${c.batchWindowUs / 1000} ms` });
        break;
      case 'delta':
        out.push({ name, at: 'server', label: `deltas, snapshot every ${c.snapshotEvery}` });
        break;
      case 'compression':
        out.push({
          name,
          at: 'connection',
          label: c.contextTakeover ? 'deflate (takeover)' : 'deflate',
        });
        break;
      case 'priorities':
        out.push({ name, at: 'server', label: `priorities P0–P3 (${c.shed ? 'shed' : 'delay'})` });
        break;
    }
  }
  return out;
}

/** The schema's full update in every encoding, flat, as the run's JSON reports it. */
export function bytesPerUpdateOf(schemaId: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of bytesPerUpdateTable(schemaId).rows) {
    out[r.encoding] = r.bytes;
    out[`${r.encoding}-deflate`] = r.deflateTakeoverBytes;
    out[`${r.encoding}-deflate-no-takeover`] = r.deflateNoTakeoverBytes;
    if (r.guideObjectBytes !== null) out[`guide-${r.encoding}`] = r.guideObjectBytes;
  }
  return out;
}
