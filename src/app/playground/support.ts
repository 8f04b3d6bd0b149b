// Whether this browser and page can run the playground (service workers need a secure context), and what to do if not.

export interface Problem {
  title: string;
  message: string;
}

/** What the browser offers that the playground needs. */
export interface Capabilities {
  isSecureContext: boolean;
  serviceWorker: boolean;
  eventSource: boolean;
  webSocket: boolean;
}

/** Why the playground cannot run here, with what to do about it; null when it can. */
export function supportProblem(caps: Capabilities): Problem | null {
  if (!caps.isSecureContext)
    return {
      title: 'The playground needs a secure page',
      message:
        'Browsers only allow service workers on https:// pages and on http://localhost. Open Hoplab over https, or run it locally (npm run dev) and open http://localhost:5173.',
    };
  if (!caps.serviceWorker)
    return {
      title: 'This browser has no service workers here',
      message:
        'The playground answers real fetch and EventSource requests from a service worker, and this window does not offer one (private windows in some browsers disable them). Open Hoplab in a regular window of a current Chrome, Firefox or Safari, over http://localhost or https.',
    };
  if (!caps.eventSource || !caps.webSocket)
    return {
      title: 'This browser lacks EventSource or WebSocket',
      message: 'Open Hoplab in a current Chrome, Firefox or Safari.',
    };
  return null;
}

export function browserCapabilities(): Capabilities {
  return {
    isSecureContext: globalThis.isSecureContext === true,
    // Absent (not just unusable) on insecure pages; some private windows remove it too.
    serviceWorker: typeof navigator !== 'undefined' && navigator.serviceWorker != null,
    eventSource: typeof EventSource !== 'undefined',
    webSocket: typeof WebSocket !== 'undefined',
  };
}
