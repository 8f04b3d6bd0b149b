// A bid's outcome codes and their names, shared by the simulated auction and its bridge replay.

export const OUT_ACCEPTED = 1;
export const OUT_TOO_LOW = 2;
export const OUT_ENDED = 3;
export const OUT_RATE_LIMITED = 4;
export const OUT_GAVE_UP = 5;

/** The name a report gives an outcome; `none` for a bid with no outcome (0). */
export function outcomeName(o: number, none: string): string {
  switch (o) {
    case OUT_ACCEPTED:
      return 'accepted';
    case OUT_TOO_LOW:
      return 'rejected: bid too low';
    case OUT_ENDED:
      return 'rejected: auction ended';
    case OUT_RATE_LIMITED:
      return 'rejected: rate limited';
    case OUT_GAVE_UP:
      return 'gave up after retries';
    default:
      return none;
  }
}
