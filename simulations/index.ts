// The scenario registry: every file in simulations/ is listed here once (a test checks it).
import type { ScenarioFile } from '../src/scenario/schema.ts';
import twoHop from './two-hop.ts';
import twoHop1m from './two-hop-1m.ts';

export const scenarioFiles: readonly ScenarioFile[] = [twoHop, twoHop1m];
