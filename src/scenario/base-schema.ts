// What every scenario family shares: distributions, parameter declarations and the base fields (a leaf: it imports no other schema).
import { z } from 'zod';
import { claimSchema } from './claims-schema.ts';

const positive = z.number().finite().positive();
const nonNegative = z.number().finite().nonnegative();

/** A distribution in the unit of the field that holds it (ms for latencies, bytes for sizes). */
export const distSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('constant'), value: nonNegative }),
  z
    .strictObject({ kind: z.literal('uniform'), min: nonNegative, max: nonNegative })
    .refine((d) => d.max >= d.min, { message: 'max must be >= min', path: ['max'] }),
  z.strictObject({ kind: z.literal('exponential'), mean: positive }),
  z.strictObject({ kind: z.literal('normal'), mean: nonNegative, sd: nonNegative }),
  z
    .strictObject({ kind: z.literal('lognormal'), median: positive, p99: positive })
    .refine((d) => d.p99 >= d.median, { message: 'p99 must be >= median', path: ['p99'] }),
  z.strictObject({ kind: z.literal('pareto'), scale: positive, shape: positive }),
]);

const identifier = z
  .string()
  .regex(/^[a-z][a-zA-Z0-9]*$/, 'must be a camelCase identifier')
  .refine((s) => !['scenario', 'seed', 'embed', 'constructor', 'prototype'].includes(s), {
    message: 'is a reserved name',
  });

const parameterBase = {
  name: identifier,
  /** Dot path into the scenario: `topology.users`, `workload.payloadBytes.value`, `durationS`. */
  path: z.string().regex(/^(topology|workload|durationS)(\.[a-zA-Z0-9-]+)*$/),
  label: z.string().min(1),
  description: z.string().min(1),
  group: z.enum([
    'Run',
    'Workload',
    'Topology',
    'Broker',
    'Servers',
    'Network',
    'Protocol',
    'Shaping',
    'Failures',
  ]),
};

export const numberParameterSchema = z
  .strictObject({
    ...parameterBase,
    kind: z.literal('number'),
    unit: z.string(),
    min: z.number().finite(),
    max: z.number().finite(),
    step: positive,
    /** Draw the slider on a log scale (for counts spanning decades). */
    log: z.boolean().optional(),
    /** The parameter may also be `off` (a rate that can be switched off; 0 is then refused). */
    off: z.boolean().optional(),
  })
  .refine((p) => p.max > p.min, { message: 'max must be > min', path: ['max'] });

export const choiceParameterSchema = z.strictObject({
  ...parameterBase,
  kind: z.literal('choice'),
  options: z.array(z.string().min(1)).min(2),
});

export const parameterSchema = z.union([numberParameterSchema, choiceParameterSchema]);

/** The fields every scenario file has, whatever its model. */
export const scenarioBase = {
  id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be kebab-case'),
  title: z.string().min(1),
  summary: z.string().min(1),
  /** Paragraphs separated by blank lines; **bold** and `code` spans allowed. */
  prose: z.string().min(1),
  durationS: positive.max(86_400),
  sampleIntervalMs: positive.min(1).max(60_000),
  parameters: z.array(parameterSchema),
  /** The guide's figures this scenario checks (the lab shows "holds" or the measured number). */
  claims: z.array(claimSchema).max(20).default([]),
};
