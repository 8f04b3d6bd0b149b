// The lab's current run as a bridge `run` request: the fields a lab URL holds (scenario, seed, parameters, faults).
import { runRequestSchema } from '../../bridge/protocol.ts';
import type { LoadedScenario } from '../../scenario/resolve.ts';
import type { z } from 'zod';

export type BridgeRunRequest = z.infer<typeof runRequestSchema>;

/** What the request is built from: the lab's scenario (with its fault schedule), values and seed. */
export interface LabRun {
  scenario: LoadedScenario;
  params: Readonly<Record<string, number | string>>;
  seed: number;
}

/**
 * Builds the request, or says why the run cannot be sent. Every parameter value goes along (not
 * only the URL's non-defaults), so the bridge runs exactly what the lab shows; a cluster run's
 * whole fault schedule goes along, as the worker gets it.
 */
export function runRequestFor(
  run: LabRun,
): { ok: true; request: BridgeRunRequest } | { ok: false; field: string; message: string } {
  const candidate: BridgeRunRequest = {
    type: 'run',
    scenario: run.scenario.id,
    seed: run.seed,
    params: { ...run.params },
  };
  if (run.scenario.model === 'cluster') candidate.faults = [...run.scenario.topology.faults];
  const checked = runRequestSchema.safeParse(candidate);
  if (checked.success) return { ok: true, request: checked.data };
  const issue = checked.error.issues[0];
  const field = issue?.path.join('.') || 'run';
  return { ok: false, field, message: `${field}: ${issue?.message ?? 'not a valid run request'}` };
}

/** True when two requests would run the same thing (to tell the reader the lab has moved on). */
export function sameRun(a: BridgeRunRequest | null, b: BridgeRunRequest | null): boolean {
  return a !== null && b !== null && JSON.stringify(a) === JSON.stringify(b);
}
