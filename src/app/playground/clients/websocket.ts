// WebSocket: one two-way connection; the server pushes frames, the client can send.
import type { Report, Update } from './types.ts';

export function startWebSocket(url: string, reconnectMs: number, report: Report) {
  let socket: WebSocket;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  function connect() {
    socket = new WebSocket(url);
    socket.onopen = () => report.open(`connected: ${url}`);
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      // The server greets each connection with its newest sequence number.
      if (message.type === 'hello') report.open(`server is at #${message.latestSeq}`);
      else report.message(message as Update, event.data.length);
    };
    socket.onclose = (event) => {
      if (stopped) return;
      // Plain WebSocket has no resume: what is published while we are away is lost.
      report.closed(`closed (code ${event.code}); reconnecting`, reconnectMs);
      timer = setTimeout(connect, reconnectMs);
    };
  }

  connect();
  return {
    send(text: string) {
      if (socket.readyState !== WebSocket.OPEN) return false;
      const frame = JSON.stringify({ text });
      socket.send(frame);
      report.sent(`sent ${frame}`, frame.length);
      return true;
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      socket.close();
    },
  };
}
