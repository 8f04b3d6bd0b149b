// A lean Server-Sent Events reader on node:http for the load generator: the parts of the
// EventSource algorithm the bridge's servers use (`id:`, `event:`, `data:`, `retry:`, comments,
// dispatch on a blank line; reconnect after `retry` ms with `Last-Event-ID`). One `data` string per
// event and no stream/TextDecoder layers, so a 1,000-client fan-out costs little to read.
import http from 'node:http';

export interface SseHandlers {
  /** One dispatched event: its type (`message` unless `event:` named one) and its data. */
  onEvent: (type: string, data: string) => void;
  /** The stream failed or ended; it reconnects after the retry delay unless closed. */
  onError: () => void;
}

export class SseReader {
  private req: http.ClientRequest | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** The last event id seen (sent as Last-Event-ID on a reconnect). */
  lastEventId = '';
  /** Reconnection delay, ms (the server's `retry:` changes it). */
  retryMs: number;

  constructor(
    private readonly url: string,
    private readonly handlers: SseHandlers,
    private readonly agent?: http.Agent,
    retryMs = 1000,
  ) {
    this.retryMs = retryMs;
    this.open();
  }

  private open(): void {
    if (this.closed) return;
    const headers: Record<string, string> = {
      accept: 'text/event-stream',
      'cache-control': 'no-store',
    };
    if (this.lastEventId !== '') headers['last-event-id'] = this.lastEventId;
    const req = http.get(this.url, { headers, agent: this.agent ?? false });
    this.req = req;
    let failed = false;
    const fail = () => {
      if (failed || this.req !== req) return;
      failed = true;
      this.req = null;
      req.destroy();
      if (this.closed) return;
      this.handlers.onError();
      this.timer = setTimeout(() => this.open(), this.retryMs);
    };
    req.on('error', fail);
    req.on('response', (res) => {
      const type = String(res.headers['content-type'] ?? '');
      if (res.statusCode !== 200 || !type.startsWith('text/event-stream')) {
        res.resume();
        // Not a stream (a refusal): EventSource gives up; the load generator retries anyway.
        return fail();
      }
      res.setEncoding('utf8');
      let buffered = '';
      let data = '';
      let hasData = false;
      let event = '';
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let start = 0;
        let nl: number;
        while ((nl = buffered.indexOf('\n', start)) >= 0) {
          let end = nl;
          if (end > start && buffered.charCodeAt(end - 1) === 13) end--;
          const line = buffered.slice(start, end);
          start = nl + 1;
          if (line === '') {
            // Blank line: dispatch.
            if (hasData) this.handlers.onEvent(event || 'message', data);
            data = '';
            hasData = false;
            event = '';
            continue;
          }
          if (line.charCodeAt(0) === 58) continue; // ':' comment
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          let value = colon < 0 ? '' : line.slice(colon + 1);
          if (value.charCodeAt(0) === 32) value = value.slice(1);
          switch (field) {
            case 'data':
              data = hasData ? `${data}\n${value}` : value;
              hasData = true;
              break;
            case 'event':
              event = value;
              break;
            case 'id':
              if (!value.includes('\0')) this.lastEventId = value;
              break;
            case 'retry':
              if (/^\d+$/.test(value)) this.retryMs = Number(value);
              break;
          }
        }
        buffered = start > 0 ? buffered.slice(start) : buffered;
        // A server that never ends a line is cut off (the bridge's own servers never do).
        if (buffered.length > 1 << 20) fail();
      });
      res.on('end', fail);
      res.on('error', fail);
      res.on('close', fail);
    });
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.req?.destroy();
    this.req = null;
  }
}
