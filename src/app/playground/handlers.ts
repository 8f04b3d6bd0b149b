// The msw handlers that play the server: poll, long poll, SSE stream and WebSocket, all fed by FeedServer.
import { http, HttpResponse, sse, ws, type WebSocketHandler, type HttpHandler } from 'msw';
import { cleanText } from './payload.ts';
import { jsonArray, type FeedServer, type LogRecord } from './server.ts';

/** Absolute URLs of the playground's endpoints, resolved against the page (any base path works). */
export interface Endpoints {
  poll: string;
  longPoll: string;
  stream: string;
  socket: string;
}

/**
 * What the client code is given: paths relative to the page, as an app would write them (fetch and
 * EventSource resolve them against the page). msw's WebSocket needs an absolute ws:// URL.
 */
export const CLIENT_PATHS = {
  poll: './api/poll',
  longPoll: './api/long-poll',
  stream: './api/stream',
} as const;

export function endpointsFor(pageHref: string): Endpoints {
  const at = (path: string) => new URL(path, pageHref);
  const socket = at('./socket');
  socket.protocol = socket.protocol === 'https:' ? 'wss:' : 'ws:';
  socket.search = '';
  const clean = (u: URL) => `${u.origin}${u.pathname}`;
  return {
    poll: clean(at(CLIENT_PATHS.poll)),
    longPoll: clean(at(CLIENT_PATHS.longPoll)),
    stream: clean(at(CLIENT_PATHS.stream)),
    socket: socket.href,
  };
}

/** Reads `?since=` (0 when absent or not a number). */
function sinceOf(request: Request): number {
  const raw = Number(new URL(request.url).searchParams.get('since'));
  return Number.isFinite(raw) && raw >= 0 ? Math.floor(raw) : 0;
}

/** The text of a client's frame: `{"text": …}`, or the raw frame if it is not that JSON. */
function messageText(frame: string): string {
  try {
    const data = JSON.parse(frame) as { text?: unknown };
    return typeof data?.text === 'string' ? data.text : '';
  } catch {
    return frame;
  }
}

const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' };

/** How the server knew where a reconnecting stream left off. */
export type ResumeVia = 'Last-Event-ID' | 'stream cursor';

/** Cursors kept for SSE streams (by ?stream= id); the oldest are forgotten beyond this. */
const MAX_CURSORS = 64;

/** Things the page can do to the server side: drop connections, learn about client messages. */
export interface ServerHooks {
  /** The SSE `retry:` value sent on each new stream, ms. */
  sseRetryMs: number;
  /** A reconnecting SSE stream was resumed after `since`, replaying `replayed` updates. */
  onStreamResume(info: { since: number; replayed: number; via: ResumeVia }): void;
  /** A WebSocket client sent a message; the page publishes it as a client update. */
  onClientMessage(text: string): void;
}

/** The live SSE streams and WebSocket connections, so "drop the connection" can reach them. */
export interface Connections {
  dropStreams(): number;
  dropSockets(): number;
  closeAll(): void;
}

export function createHandlers(
  server: FeedServer,
  endpoints: Endpoints,
  hooks: ServerHooks,
): { handlers: (HttpHandler | WebSocketHandler)[]; connections: Connections } {
  const streams = new Set<{ drop(): void; close(): void }>();
  const cursors = new Map<string, number>();
  const remember = (streamId: string, seq: number) => {
    cursors.delete(streamId);
    cursors.set(streamId, seq);
    if (cursors.size > MAX_CURSORS) cursors.delete(cursors.keys().next().value ?? '');
  };
  const socket = ws.link(endpoints.socket);
  const sockets = new Set<{ close(code: number, reason: string): void }>();

  const handlers = [
    // Polling: answer at once with what came after `since` — often nothing.
    http.get(endpoints.poll, ({ request }) => {
      return new HttpResponse(jsonArray(server.after(sinceOf(request))), {
        headers: JSON_HEADERS,
      });
    }),

    // Long polling: hold the request until there is news or the hold times out.
    http.get(endpoints.longPoll, async ({ request }) => {
      const records = await server.waitAfter(sinceOf(request), request.signal);
      return new HttpResponse(jsonArray(records), { headers: JSON_HEADERS });
    }),

    // SSE: announce the retry delay, replay what a reconnecting stream missed, then stream updates.
    sse(endpoints.stream, ({ request, client }) => {
      client.send({ retry: hooks.sseRetryMs });
      const streamId = new URL(request.url).searchParams.get('stream') ?? '';
      const header = request.headers.get('last-event-id');
      // Resume from Last-Event-ID when the request carries it. Chromium adds that header below the
      // service worker, so msw never sees it there; the mock server then falls back to the cursor
      // it kept for this stream's ?stream= id. A fresh stream starts from now.
      let since = server.latestSeq;
      let via: ResumeVia | null = null;
      if (header !== null && /^\d+$/.test(header)) {
        since = Number(header);
        via = 'Last-Event-ID';
      } else if (cursors.has(streamId)) {
        since = cursors.get(streamId) ?? since;
        via = 'stream cursor';
      }
      const push = (r: LogRecord) => {
        client.send({ id: String(r.update.seq), data: r.json });
        if (streamId) remember(streamId, r.update.seq);
      };
      if (streamId && !cursors.has(streamId)) remember(streamId, since);
      let replayed = 0;
      for (let batch = server.after(since); batch.length > 0;) {
        batch.forEach(push);
        replayed += batch.length;
        batch = server.after(batch[batch.length - 1].update.seq);
      }
      if (via) hooks.onStreamResume({ since, replayed, via });
      const unsubscribe = server.subscribe(push);
      const entry = {
        drop() {
          unsubscribe();
          streams.delete(entry);
          // The stream ends mid-flight, as when a proxy or the network cuts it: EventSource waits
          // `retry` ms and reconnects by itself, sending Last-Event-ID.
          client.close();
        },
        close() {
          unsubscribe();
          streams.delete(entry);
          client.close();
        },
      };
      streams.add(entry);
      request.signal.addEventListener('abort', () => entry.close(), { once: true });
    }),

    // WebSocket: greet with the newest seq, push a frame per update, publish what clients send.
    socket.addEventListener('connection', ({ client }) => {
      client.send(JSON.stringify({ type: 'hello', latestSeq: server.latestSeq }));
      const unsubscribe = server.subscribe((r) => client.send(r.json));
      const entry = {
        close(code: number, reason: string) {
          unsubscribe();
          sockets.delete(entry);
          client.close(code, reason);
        },
      };
      sockets.add(entry);
      client.addEventListener('message', (event) => {
        const text = cleanText(messageText(String(event.data)));
        if (text) hooks.onClientMessage(text);
      });
      client.addEventListener('close', () => {
        unsubscribe();
        sockets.delete(entry);
      });
    }),
  ];

  return {
    handlers,
    connections: {
      dropStreams() {
        const n = streams.size;
        for (const s of [...streams]) s.drop();
        return n;
      },
      dropSockets() {
        const n = sockets.size;
        // 1006 is what a browser reports when the network vanishes without a closing handshake.
        for (const c of [...sockets]) c.close(1006, 'connection dropped');
        return n;
      },
      closeAll() {
        for (const s of [...streams]) s.close();
        for (const c of [...sockets]) c.close(1001, 'server going away');
      },
    },
  };
}
