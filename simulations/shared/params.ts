// Compact constructors for scenario parameters (number sliders and choices), shared by scenario families.
import type { ScenarioFile } from '../../src/scenario/schema.ts';

export type Param = ScenarioFile['parameters'][number];

export const num = (
  name: string,
  path: string,
  group: Param['group'],
  label: string,
  unit: string,
  min: number,
  max: number,
  step: number,
  description: string,
  log = false,
): Param => ({ name, path, group, label, unit, min, max, step, description, kind: 'number', log });

export const choice = (
  name: string,
  path: string,
  group: Param['group'],
  label: string,
  options: string[],
  description: string,
): Param => ({ name, path, group, label, options, description, kind: 'choice' });

/** A number parameter that may also be switched `off` (a rate limit, say); 0 is then refused. */
export const offNum = (...args: Parameters<typeof num>): Param =>
  ({ ...num(...args), off: true }) as Param;
