// The guide's figures a scenario checks: what the guide claims, what to measure, and the band in which the claim holds.
import { z } from 'zod';

const overrides = z.record(
  z.string().regex(/^[a-z][a-zA-Z0-9]*$/, 'must be a parameter name'),
  z.union([z.string(), z.number()]),
);

export const claimSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be kebab-case'),
    /** The guide's words, quoted. */
    claim: z.string().min(1),
    /** Where the guide says it (chapter › section). */
    source: z.string().min(1),
    /** A path into the run's JSON: `shaping.bytesPerSecPerUser`, `latencyMs.p50`, `bytesPerUpdate.protobuf`. */
    metric: z.string().regex(/^[a-zA-Z0-9]+(\.[a-zA-Z0-9-]+)*$/, 'must be a dotted path'),
    /**
     * value: the metric of the `with` run; change: with ÷ base − 1 (−0.9 = 90% less); ratio:
     * base ÷ with ("10x fewer"); difference: with − base (in the metric's unit).
     */
    measure: z.enum(['value', 'change', 'ratio', 'difference']),
    /** Parameter overrides of the measured run (on top of the scenario's own values). */
    with: overrides.default({}),
    /** Overrides of the baseline run, for change, ratio and difference. */
    base: overrides.optional(),
    /** The guide's figure as a band: a point claim has min = max. */
    guide: z.strictObject({ min: z.number().finite(), max: z.number().finite() }),
    /** How far outside the band still counts as holding, in the measure's unit. */
    tolerance: z.number().finite().nonnegative(),
    /** share (shown as %), ms, B, B/s, x, count … */
    unit: z.string(),
    /** The mechanism behind the figure, in a sentence or two: why it holds or why it does not. */
    why: z.string().min(1),
  })
  .refine((c) => c.guide.max >= c.guide.min, {
    message: 'max must be >= min',
    path: ['guide', 'max'],
  })
  .refine((c) => c.measure === 'value' || c.base !== undefined, {
    message: 'change, ratio and difference need a base run',
    path: ['base'],
  });

export type Claim = z.infer<typeof claimSchema>;
