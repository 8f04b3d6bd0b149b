// Checker: within a Kafka partition (or a Redis / database channel), no record overtakes an older
// one on its way to a server. Replays (offsets read again after a crash or a rebalance) are fine;
// an offset arriving for the first time after a newer one is not.

/** One record as a server received it. */
export interface ArrivalRecord {
  server: number;
  /** The Kafka partition (other brokers: the channel). */
  partition: number;
  /** The offset in the partition's log (other brokers: the channel sequence number). */
  offset: number;
  message: number;
  arrivalUs: number;
}

export function checkPartitionOrder(arrivals: readonly ArrivalRecord[]): string[] {
  const out: string[] = [];
  const newest = new Map<string, number>();
  const seen = new Map<string, Set<number>>();
  for (const a of arrivals) {
    const key = `${a.server}/${a.partition}`;
    let got = seen.get(key);
    if (!got) seen.set(key, (got = new Set()));
    const max = newest.get(key) ?? -1;
    if (a.offset < max && !got.has(a.offset)) {
      out.push(
        `server ${a.server} partition ${a.partition}: offset ${a.offset} arrived after offset ${max} (message ${a.message} at ${a.arrivalUs} µs)`,
      );
      if (out.length >= 5) break;
    }
    got.add(a.offset);
    if (a.offset > max) newest.set(key, a.offset);
  }
  return out;
}
