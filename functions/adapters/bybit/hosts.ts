/**
 * Where stopguard may send an account's signed requests. A request carries the API key and is signed
 * with the secret, so the host is a trust decision, not a setting: only Bybit's own HTTPS hosts, and
 * beyond them only origins the deployment (or local mode) names explicitly.
 */

/**
 * Bybit's V5 REST hosts (bybit-exchange/docs `docs/v5/guide.mdx` "Integration guidance" and
 * `docs/v5/demo.mdx`, as of 2026-07): mainnet and its alternative domain, the regional entities
 * (Netherlands, Turkey, Kazakhstan, Georgia, UAE, EEA, Indonesia, Japan), testnet and demo trading.
 * Hosts Bybit has retired (Hong Kong's `api.byhkbit.com`, Turkey's old `api.bybit-tr.com`) are not here.
 */
export const BYBIT_HOSTS: ReadonlySet<string> = new Set([
  'api.bybit.com',
  'api.bytick.com',
  'api.bybit.nl',
  'api.bybit.tr',
  'api.bybit.kz',
  'api.bybitgeorgia.ge',
  'api.bybit.ae',
  'api.bybit.eu',
  'api.bybit.id',
  'api.manepa.jp',
  'api-testnet.bybit.com',
  'api-testnet.manepa.jp',
  'api-demo.bybit.com',
]);

export class UntrustedExchangeUrlError extends Error {
  override readonly name = 'UntrustedExchangeUrlError';
}

/**
 * The origin to send an account's requests to, or `UntrustedExchangeUrlError` saying why not.
 * `extraOrigins` are exact origins (`http://127.0.0.1:4010`) a deployment allows besides Bybit's hosts:
 * a local simulator, a test stand-in.
 */
export function trustedExchangeOrigin(url: string, extraOrigins: readonly string[] = []): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UntrustedExchangeUrlError(`exchange URL "${url}" is not a URL`);
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new UntrustedExchangeUrlError('an exchange URL must not carry credentials');
  }
  if (parsed.pathname !== '/' || parsed.search !== '' || parsed.hash !== '') {
    throw new UntrustedExchangeUrlError(
      `exchange URL ${parsed.origin} must be a bare origin, without a path`,
    );
  }
  const origin = parsed.origin;
  if (extraOrigins.some((extra) => normalizedOrigin(extra) === origin)) return origin;
  if (parsed.protocol !== 'https:') {
    throw new UntrustedExchangeUrlError(
      `exchange URL ${origin} is not https; a local http endpoint must be allowed explicitly (STOPGUARD_EXTRA_EXCHANGE_ORIGINS)`,
    );
  }
  if (!BYBIT_HOSTS.has(parsed.hostname) || parsed.port !== '') {
    throw new UntrustedExchangeUrlError(
      `exchange host ${parsed.host} is not one of Bybit's (${[...BYBIT_HOSTS].join(', ')}); another endpoint must be allowed explicitly (STOPGUARD_EXTRA_EXCHANGE_ORIGINS)`,
    );
  }
  return origin;
}

/** An origin as `URL` writes it, or the input when it is not a URL (then it matches nothing real). */
export function normalizedOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
