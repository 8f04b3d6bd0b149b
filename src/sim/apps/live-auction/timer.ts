// The auction countdown on a client whose clock is off and drifts: when its timer shows zero, against the real end.

/** The last countdown message a watcher received before the end. */
export interface TimerAnchor {
  /** When the server sent it (server time is true time here) … */
  sentUs: number;
  /** … when it reached the watcher, and the end it announced (soft close may move it later). */
  arrivalUs: number;
  endUs: number;
}

/**
 * How late (positive) or early the watcher's countdown reaches zero, in microseconds of true
 * time. The client's clock reads C(t) = t + offset + drift·t.
 *
 * `server-timestamp` is the guide's rule — show `timeRemaining − (now − timestamp)` with `now`
 * from the client's clock: zero when C(t) = end, so the error is the clock's offset (and drift),
 * whatever the network did; resyncing does not remove it. `receipt` counts down from when the
 * message arrived — zero at a + timeRemaining / (1 + drift): the error is the message's one-way
 * delay (plus drift since it came), which a resync keeps small.
 */
export function timerErrorUs(
  method: 'server-timestamp' | 'receipt',
  anchor: TimerAnchor,
  finalEndUs: number,
  offsetUs: number,
  drift: number,
): number {
  const remaining = anchor.endUs - anchor.sentUs;
  const zeroAt =
    method === 'server-timestamp'
      ? (anchor.endUs - offsetUs) / (1 + drift)
      : anchor.arrivalUs + remaining / (1 + drift);
  return zeroAt - finalEndUs;
}
