// Polling: ask the server for news on a timer, whether or not anything happened.
import type { Report, Update } from './types.ts';

export function startPolling(url: string, intervalMs: number, report: Report) {
  // The last sequence number we have; the server sends what came after it.
  let since = 0;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const controller = new AbortController();

  async function poll() {
    const request = `${url}?since=${since}`;
    report.request(`GET ${request}`);
    try {
      const response = await fetch(request, { signal: controller.signal });
      const body = await response.text();
      const updates: Update[] = JSON.parse(body);
      // Often [] at low update rates: a whole request that found nothing new.
      report.response(updates, body.length);
      if (updates.length > 0) since = updates[updates.length - 1].seq;
    } catch (error) {
      if (stopped) return;
      report.closed(`request failed: ${error}`, intervalMs);
    }
    // setTimeout after each answer rather than setInterval,
    // so a slow answer never overlaps the next question.
    if (!stopped) timer = setTimeout(poll, intervalMs);
  }

  poll();
  return () => {
    stopped = true;
    clearTimeout(timer);
    controller.abort();
  };
}
