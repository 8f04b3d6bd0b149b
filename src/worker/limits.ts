// The worker's pacing and safety limits, in one place so the UI and tests can quote them.

/** Wall time the worker spends simulating before it yields to its message loop. */
export const SLICE_MS = 20;

/** How often the worker streams a snapshot to the page, whatever the speed. */
export const EMIT_INTERVAL_MS = 100;

/** Events per runUntil call in a slice, so the slice clock is checked often enough. */
export const EVENTS_PER_CHUNK = 20_000;

/** A run that processes more events than this is stopped as runaway. */
export const MAX_EVENTS = 500_000_000;

/** A run that has been simulating (not paused) for longer than this is stopped as runaway. */
export const MAX_WALL_MS = 10 * 60 * 1000;

/** Trace records sent per update at most; the canvas cannot show more moving marks usefully. */
export const MAX_TRACE_PER_UPDATE = 300;

/** Simulated-time multipliers offered by the UI; 'max' runs as fast as the core can. */
export const SPEEDS = [0.01, 0.1, 1, 10, 100, 1000, 'max'] as const;
export type Speed = (typeof SPEEDS)[number];
export const DEFAULT_SPEED: Speed = 1;
