// The Kafka consumer group as the cluster panel shows it: which server owns each partition now, and how the partitions are spread.
import { serverColour } from '../viz/connections.ts';

export interface PartitionCell {
  partition: number;
  /** P0, P1, … */
  label: string;
  /** Owner server, or -1 while nobody reads it (revoked in a rebalance, or its owner crashed). */
  owner: number;
  /** The owner's colour (the servers' palette), or null for no owner. */
  colour: string | null;
  /** What a tooltip or a screen reader says: "P3 → WS 2", "P3: no owner (rebalancing)". */
  title: string;
}

export interface OwnerShare {
  server: number;
  name: string;
  colour: string;
  partitions: number;
}

export interface PartitionStrip {
  cells: PartitionCell[];
  /** Per server that owns partitions now, in server order. */
  owners: OwnerShare[];
  /** Partitions nobody reads now. */
  unowned: number;
  /** Too many partitions for one cell each: the view draws the shares instead. */
  aggregated: boolean;
  /** One line for people: "12 partitions over 3 servers", "rebalancing: all 12 revoked". */
  summary: string;
}

/** Above this many partitions the strip draws each owner's share instead of one cell each. */
export const MAX_CELLS = 48;

/**
 * The strip's data: one cell per partition coloured by its owner (the server palette used by the
 * connections chart), the owners' shares, and a summary. `rebalancing` explains unowned cells
 * (eager rebalancing revokes every partition); otherwise an unowned partition waits for the
 * coordinator to notice its owner is gone (the session timeout).
 */
export function partitionStrip(
  owners: readonly number[],
  rebalancing: boolean,
  serverName: (s: number) => string,
): PartitionStrip {
  const why = rebalancing ? 'revoked while the group rebalances' : 'its owner is gone';
  const cells = owners.map((owner, p) => ({
    partition: p,
    label: `P${p}`,
    owner,
    colour: owner >= 0 ? serverColour(owner) : null,
    title: owner >= 0 ? `P${p} → ${serverName(owner)}` : `P${p}: no owner (${why})`,
  }));
  const counts = new Map<number, number>();
  for (const o of owners) if (o >= 0) counts.set(o, (counts.get(o) ?? 0) + 1);
  const shares = [...counts.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([server, partitions]) => ({
      server,
      name: serverName(server),
      colour: serverColour(server),
      partitions,
    }));
  const unowned = owners.length - shares.reduce((sum, s) => sum + s.partitions, 0);
  const n = owners.length;
  const plural = (k: number, word: string) => `${k} ${word}${k === 1 ? '' : 's'}`;
  let summary: string;
  if (n === 0) summary = 'no partitions';
  else if (rebalancing) summary = `rebalancing: ${unowned === n ? 'all' : unowned} of ${n} revoked`;
  else if (shares.length === 0) summary = `${plural(n, 'partition')}, none read`;
  else
    summary = `${plural(n, 'partition')} over ${plural(shares.length, 'server')}${
      unowned > 0 ? `; ${unowned} waiting for an owner` : ''
    }`;
  return { cells, owners: shares, unowned, aggregated: n > MAX_CELLS, summary };
}
