// Server-Sent Events: one long HTTP response streams events; the browser reconnects.
import type { Report, Update } from './types.ts';

export function startSse(url: string, report: Report) {
  // The browser keeps this URL, and the last event id, for its own reconnects.
  const source = new EventSource(url);

  source.onopen = () => report.open(`stream open: GET ${url}`);

  source.onmessage = (event) => {
    const update: Update = JSON.parse(event.data);
    report.message(update, event.data.length, `id: ${event.lastEventId}`);
  };

  source.onerror = () => {
    // CONNECTING means the browser will retry by itself, after the server's
    // `retry:` delay, sending Last-Event-ID so the server can replay the gap.
    if (source.readyState === EventSource.CONNECTING)
      report.closed('stream lost; the browser reconnects with Last-Event-ID');
    else report.closed('stream closed');
  };

  return () => source.close();
}
