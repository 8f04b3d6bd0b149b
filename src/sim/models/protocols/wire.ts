// Bytes on the wire for each protocol's messages, and which protocols carry client→server traffic.
import type { Protocol } from '../../../scenario/schema.ts';

/** IPv4 + TCP headers (40) and a TLS 1.3 record's header, type and tag (22), per message. */
export const TCP_TLS_OVERHEAD = 62;
/** IPv4 + UDP (28), DTLS record (29) and SCTP common header + DATA chunk (28), per message. */
export const WEBRTC_OVERHEAD = 85;
/** TCP handshake packets plus a TLS handshake with a certificate chain. */
export const TCP_HANDSHAKE_BYTES = 120;
export const TLS_HANDSHAKE_BYTES = 4_400;
/** `101 Switching Protocols` response to a WebSocket upgrade. */
export const WS_UPGRADE_RESPONSE_BYTES = 160;
/** `id: <seq>\ndata: ` … `\n\n` around an SSE event. */
export const SSE_EVENT_FRAMING = 16;
/** An SSE comment line used as a heartbeat (`:\n\n`). */
export const SSE_HEARTBEAT_BYTES = 3;
/** A WebSocket ping or pong frame with no payload (the pong is masked: +4). */
export const WS_PING_BYTES = 2;
export const WS_PONG_BYTES = 6;
/** A STUN binding request or response (ICE consent freshness), with IP/UDP headers. */
export const STUN_BYTES = 100;
/** SDP offer/answer and trickled ICE candidates relayed by the signaling server, per peer pair. */
export const SIGNALING_BYTES_PER_PAIR = 6_000;
/** DTLS handshake (certificates) plus SCTP association, per peer connection. */
export const DTLS_SCTP_BYTES = 3_500;
/** Body of an empty JSON poll response (`[]`). */
export const EMPTY_BODY_BYTES = 2;

/** WebSocket frame header: server→client unmasked 2/4/10 bytes, client→server 4 more (mask). */
export function wsFrameBytes(payload: number, fromClient: boolean): number {
  const header = payload < 126 ? 2 : payload < 65_536 ? 4 : 10;
  return payload + header + (fromClient ? 4 : 0);
}

/** Whether client→server messages travel on the same channel as the updates (the guide's matrix). */
export const BIDIRECTIONAL: Record<Protocol, boolean> = {
  polling: true,
  'long-polling': true,
  sse: false,
  websocket: true,
  webrtc: true,
};

/** HTTP/1.1 browsers open at most this many connections to one origin. */
export const HTTP1_CONNECTIONS_PER_ORIGIN = 6;
