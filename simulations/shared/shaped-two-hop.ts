// Builds a shaped two-hop scenario: the two-hop topology with a shaping block, its knobs and the guide's claims.
import type { ShapingSpec } from '../../src/scenario/shaping-schema.ts';
import type { ScenarioFile, TwoHopTopology, TwoHopWorkload } from '../../src/scenario/schema.ts';
import twoHop from '../two-hop.ts';
import type { Param } from './params.ts';
import { shapingOff, shapingParameters } from './shaping.ts';
import { twoHopParameters } from './two-hop-parameters.ts';

type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** Plain-data deep merge: objects merge key by key, anything else (arrays included) replaces. */
function merge<T>(base: T, patch: DeepPartial<T> | undefined): T {
  if (patch === undefined) return base;
  if (typeof base !== 'object' || base === null || Array.isArray(base)) return patch as T;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(patch as Record<string, unknown>))
    out[k] = merge((base as Record<string, unknown>)[k], v as never);
  return out as T;
}

/** The two-hop knobs that mean something once payloads come from an update schema. */
const baseParameters = twoHopParameters.filter((p) => p.name !== 'payload');

export interface ShapedScenarioSpec {
  id: string;
  title: string;
  summary: string;
  prose: string;
  durationS: number;
  sampleIntervalMs: number;
  topology?: DeepPartial<Omit<TwoHopTopology, 'shaping'>>;
  workload?: Partial<TwoHopWorkload>;
  shaping?: DeepPartial<ShapingSpec>;
  /** Knobs of this scenario beyond the two-hop and shaping ones. */
  parameters?: Param[];
  claims?: ScenarioFile['claims'];
}

export function shapedTwoHop(spec: ShapedScenarioSpec): ScenarioFile {
  return {
    id: spec.id,
    title: spec.title,
    summary: spec.summary,
    prose: spec.prose,
    model: 'two-hop',
    durationS: spec.durationS,
    sampleIntervalMs: spec.sampleIntervalMs,
    topology: {
      ...merge<Omit<TwoHopTopology, 'shaping'>>(twoHop.topology, spec.topology),
      shaping: merge<ShapingSpec>(shapingOff, spec.shaping),
    },
    workload: { ...twoHop.workload, ...spec.workload },
    parameters: [...baseParameters, ...shapingParameters, ...(spec.parameters ?? [])],
    claims: spec.claims ?? [],
  };
}
