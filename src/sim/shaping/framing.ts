// Bytes a WebSocket message costs on the wire below its payload: WebSocket, TLS and TCP/IP framing.
import { webSocketHeaderBytes } from '../link.ts';

/** TLS 1.3 record: 5-byte header, 1-byte inner content type, 16-byte AEAD tag (RFC 8446 §5.2). */
export const TLS_RECORD_OVERHEAD_BYTES = 22;
/** TLS 1.3 records carry at most 2^14 bytes of plaintext. */
export const TLS_RECORD_MAX_BYTES = 16_384;
/** IPv4 (20) + TCP (20) + the timestamp option Linux sends by default (12): per segment. */
export const TCP_IP_HEADER_BYTES = 52;
/** Payload of one segment on a 1,500-byte Ethernet MTU with those headers. */
export const TCP_MSS_BYTES = 1_448;

/**
 * Everything one server→client WebSocket message of `payloadBytes` puts on the wire: its frame
 * header (RFC 6455 §5.2; server frames are unmasked), the TLS records that carry it, and the
 * TCP/IP segments those fill (one write per message, as with TCP_NODELAY). This is what
 * batching saves: a batch pays it once instead of once per update.
 */
export function wireBytesOf(payloadBytes: number): number {
  const ws = payloadBytes + webSocketHeaderBytes(payloadBytes);
  const records = Math.max(1, Math.ceil(ws / TLS_RECORD_MAX_BYTES));
  const tls = ws + records * TLS_RECORD_OVERHEAD_BYTES;
  const segments = Math.max(1, Math.ceil(tls / TCP_MSS_BYTES));
  return tls + segments * TCP_IP_HEADER_BYTES;
}
