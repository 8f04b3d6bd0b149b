// Checker: every client sees its channel's updates once, in order, with no gap (or says which).

/** One delivery as a client saw it. */
export interface DeliveryRecord {
  /** The message (its id in publication order, the same across runs of one seed). */
  message: number;
  client: number;
  channel: number;
  seq: number;
  createdUs: number;
  arrivalUs: number;
  /** Delivered by a replay after a reconnect (SSE Last-Event-ID, a long-poll cursor). */
  recovered: boolean;
  /** Producer id and the producer's sequence number (cluster runs; a retried record keeps them). */
  producer?: number;
  producerSeq?: number;
  /** Whether the client applied it (false: recognised as a second copy and dropped). */
  applied?: boolean;
}

export interface SequenceReport {
  clients: number;
  deliveries: number;
  /** A client received seq `after` and next `next`, skipping what lies between. */
  gaps: { client: number; after: number; next: number }[];
  duplicates: number;
  outOfOrder: number;
}

/**
 * Reads each client's deliveries in arrival order (ties in recording order) and checks that the
 * sequence numbers go up by exactly one. Only clients on a single channel are meaningful here.
 */
export function checkSequences(records: readonly DeliveryRecord[]): SequenceReport {
  const byClient = new Map<number, DeliveryRecord[]>();
  for (const r of records) {
    const list = byClient.get(r.client);
    if (list) list.push(r);
    else byClient.set(r.client, [r]);
  }
  const report: SequenceReport = {
    clients: byClient.size,
    deliveries: records.length,
    gaps: [],
    duplicates: 0,
    outOfOrder: 0,
  };
  for (const [client, list] of [...byClient].sort((a, b) => a[0] - b[0])) {
    // A stable sort keeps the recording order for equal arrival times (one response, many updates).
    const seen = list.slice().sort((a, b) => a.arrivalUs - b.arrivalUs);
    for (let k = 1; k < seen.length; k++) {
      const prev = seen[k - 1].seq;
      const next = seen[k].seq;
      if (next === prev) report.duplicates++;
      else if (next < prev) report.outOfOrder++;
      else if (next > prev + 1) report.gaps.push({ client, after: prev, next });
    }
  }
  return report;
}
