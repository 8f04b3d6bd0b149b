// What the playground's server sends and what its client code reports back to the page's log.

/** One update as every protocol carries it: a small JSON object, padded to the feed's size. */
export interface Update {
  /** The simulator's id for the update (or -1 for a message you sent). */
  id: number;
  /** Position in the channel's log: 1, 2, 3, … with no gaps. Clients resume from it. */
  seq: number;
  channel: number;
  /** Simulated creation time, µs. */
  createdUs: number;
  /** Who published it: the server (a price tick), a simulated client, or you (WebSocket send). */
  from: 'server' | 'client' | 'you';
  price?: number;
  text?: string;
  /** The size of this JSON object in bytes. */
  bytes: number;
  /** Filler that brings the object up to the feed's payload size. */
  pad?: string;
}

/**
 * How the client code tells the page what it did. The client code stays plain: it makes requests
 * and opens streams like any app, and calls these so the log can show each step.
 */
export interface Report {
  /** A request went out (polling, long polling). */
  request(what: string): void;
  /** A response came back with these updates (possibly none) and this many body bytes. */
  response(updates: Update[], bytes: number): void;
  /** One pushed message: an SSE event or a WebSocket frame carrying one update. */
  message(update: Update, bytes: number, detail?: string): void;
  /** A connection or stream opened. */
  open(what: string): void;
  /** A connection closed or failed; `retryMs` when the client will try again. */
  closed(what: string, retryMs?: number): void;
  /** A message the client sent up (WebSocket). */
  sent(what: string, bytes: number): void;
}
