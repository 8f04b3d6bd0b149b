// Checker: replays an auction's accepted writes in store order and says which ones broke the bidding rule.
import type { AcceptedWrite } from '../apps/live-auction/app.ts';

export interface AuctionReport {
  writes: number;
  /** Writes that did not beat the bid they replaced (the first bid must reach the start price). */
  lostUpdates: AcceptedWrite[];
  /** Auctions whose standing bid, replayed, is not the highest accepted one. */
  notHighest: number[];
}

/**
 * The rule is the guide's: a bid is accepted only if it is at least the current bid plus the
 * minimum increment (the first, at least the start price). Replaying the store's writes in the
 * order it ran them, every write must satisfy it against the state it replaced, and each auction
 * must end on its highest accepted amount. Independent of the app's own counters.
 */
export function checkAuction(
  writes: readonly AcceptedWrite[],
  auctions: number,
  startPrice: number,
  minIncrement: number,
): AuctionReport {
  const current = new Float64Array(auctions).fill(startPrice);
  const best = new Float64Array(auctions);
  const seen = new Uint8Array(auctions);
  const lost: AcceptedWrite[] = [];
  for (const w of writes) {
    const a = w.auction;
    const floor = seen[a] ? current[a] + minIncrement : startPrice;
    // Amounts are sums of increments on the start price: compare with a little slack for floats.
    if (w.amount < floor - 1e-9) lost.push(w);
    current[a] = w.amount;
    seen[a] = 1;
    if (w.amount > best[a]) best[a] = w.amount;
  }
  const notHighest: number[] = [];
  for (let a = 0; a < auctions; a++) if (seen[a] && current[a] < best[a]) notHighest.push(a);
  return { writes: writes.length, lostUpdates: lost, notHighest };
}
