/** Bybit V5 request authentication: the HMAC signature and the timestamp window. */

import { createHmac, timingSafeEqual } from 'node:crypto';

/** Bybit's default when `X-BAPI-RECV-WINDOW` is absent. */
export const DEFAULT_RECV_WINDOW = 5000;

/**
 * The V5 HMAC signature: lowercase hex HMAC-SHA256 over timestamp + apiKey + recvWindow + payload,
 * the payload being the raw query string of a GET or the raw JSON body of a POST, byte for byte as sent.
 */
export function signV5(
  secret: string,
  timestamp: string,
  apiKey: string,
  recvWindow: string,
  payload: string,
): string {
  return createHmac('sha256', secret)
    .update(timestamp + apiKey + recvWindow + payload)
    .digest('hex');
}

export function signatureMatches(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given.toLowerCase(), 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Bybit's rule: server_time - recv_window <= timestamp < server_time + 1000. */
export function timestampAccepted(timestamp: number, recvWindow: number, serverTime: number): boolean {
  return serverTime - recvWindow <= timestamp && timestamp < serverTime + 1000;
}
