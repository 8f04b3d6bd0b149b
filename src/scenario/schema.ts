// The scenario file format, validated with zod: a scenario is data (topology, workload, parameters).
import { z } from 'zod';

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

export const linkSchema = z.strictObject({
  /** One-way propagation delay. */
  latencyMs: distSchema,
  /** Extra delay drawn uniformly from [0, jitterMs] per message. */
  jitterMs: nonNegative,
  /** Chance that one transmission is lost; TCP retransmits it after rtoMs. */
  lossProbability: z.number().min(0).max(0.99),
  /** Retransmission timeout after a loss (Linux's minimum RTO is 200 ms). */
  rtoMs: nonNegative,
  /** Link bandwidth; bytes take bytes*8/bandwidth to serialise. */
  bandwidthMbps: positive,
});

export const twoHopTopologySchema = z.strictObject({
  users: z.number().int().min(1).max(2_000_000),
  servers: z.number().int().min(1).max(2_000),
  channels: z.number().int().min(1).max(1_000_000),
  subscriptionsPerUser: z.number().int().min(1).max(64),
  loadBalancer: z.enum(['round-robin', 'random']),
  broker: z.strictObject({
    kind: z.literal('redis-pubsub'),
    /** CPU time Redis spends on one PUBLISH. */
    serviceUs: nonNegative,
    /** Extra CPU time per subscribed server the message is written to. */
    perSubscriberUs: nonNegative,
  }),
  server: z.strictObject({
    cores: z.number().int().min(1).max(256),
    /** CPU time to take one message off the broker connection. */
    cpuPerInboundUs: nonNegative,
    /** CPU time to frame and write one message to one WebSocket. */
    cpuPerSendUs: nonNegative,
    maxConnections: z.number().int().min(1).max(10_000_000),
    memoryPerConnectionKB: nonNegative,
    /** Network interface bandwidth shared by all of the server's sends. */
    egressMbps: positive,
    /** Per-connection send buffer; a slow client whose backlog would exceed it loses the message. */
    sendBufferKB: positive,
  }),
  links: z.strictObject({
    sourceToBroker: linkSchema,
    brokerToServer: linkSchema,
    serverToUser: linkSchema,
  }),
});

export const twoHopWorkloadSchema = z.strictObject({
  ratePerChannelPerSec: positive.max(100_000),
  /** periodic: every channel publishes at a fixed interval (random phase); poisson: random. */
  arrival: z.enum(['periodic', 'poisson']),
  /** Mean number of updates published back to back in one burst (1 = no bursts). */
  burstSizeMean: z.number().finite().min(1).max(1_000),
  payloadBytes: distSchema,
});

const identifier = z
  .string()
  .regex(/^[a-z][a-zA-Z0-9]*$/, 'must be a camelCase identifier')
  .refine((s) => !['scenario', 'seed', 'embed', 'constructor', 'prototype'].includes(s), {
    message: 'is a reserved name',
  });

const parameterBase = {
  name: identifier,
  /** Dot path into the scenario: `topology.users`, `workload.payloadBytes.value`, `durationS`. */
  path: z.string().regex(/^(topology|workload|durationS)(\.[a-zA-Z0-9]+)*$/),
  label: z.string().min(1),
  description: z.string().min(1),
  group: z.enum(['Run', 'Workload', 'Topology', 'Broker', 'Servers', 'Network']),
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
  })
  .refine((p) => p.max > p.min, { message: 'max must be > min', path: ['max'] });

export const choiceParameterSchema = z.strictObject({
  ...parameterBase,
  kind: z.literal('choice'),
  options: z.array(z.string().min(1)).min(2),
});

export const parameterSchema = z.union([numberParameterSchema, choiceParameterSchema]);

export const scenarioSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be kebab-case'),
  title: z.string().min(1),
  summary: z.string().min(1),
  /** Paragraphs separated by blank lines; `code` spans allowed. */
  prose: z.string().min(1),
  model: z.literal('two-hop'),
  durationS: positive.max(86_400),
  sampleIntervalMs: positive.min(1).max(60_000),
  topology: twoHopTopologySchema,
  workload: twoHopWorkloadSchema,
  parameters: z.array(parameterSchema),
});

export type DistSpec = z.infer<typeof distSchema>;
export type LinkSpec = z.infer<typeof linkSchema>;
export type TwoHopTopology = z.infer<typeof twoHopTopologySchema>;
export type TwoHopWorkload = z.infer<typeof twoHopWorkloadSchema>;
export type ScenarioFile = z.input<typeof scenarioSchema>;
export type Scenario = z.infer<typeof scenarioSchema>;
type ParameterDecl = z.infer<typeof parameterSchema>;

/** A parameter as the UI and CLI see it: the declaration plus its default, read from `path`. */
export type Parameter = ParameterDecl & { default: number | string };
export type NumberParameter = Extract<Parameter, { kind: 'number' }>;
