// Long polling: the server holds each request until there is news (or a timeout).
import type { Report, Update } from './types.ts';

export function startLongPolling(url: string, report: Report) {
  let since = 0;
  let stopped = false;
  const controller = new AbortController();

  async function loop() {
    while (!stopped) {
      const request = `${url}?since=${since}`;
      report.request(`GET ${request}`);
      try {
        const response = await fetch(request, { signal: controller.signal });
        const body = await response.text();
        const updates: Update[] = JSON.parse(body);
        // [] only when the hold timed out; then we simply ask again.
        report.response(updates, body.length);
        if (updates.length > 0) since = updates[updates.length - 1].seq;
      } catch (error) {
        if (stopped) return;
        // Back off before retrying, so a failing server is not hammered.
        report.closed(`request failed: ${error}`, 1000);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  loop();
  return () => {
    stopped = true;
    controller.abort();
  };
}
