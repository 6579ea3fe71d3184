import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ConnectorError } from '../domain/connectors/connector-error';
import { blockedAddressReason } from './ip-ranges';

/** Resolves a host name to its addresses (injectable for tests). */
export type HostResolver = (hostname: string) => Promise<string[]>;

export const dnsResolver: HostResolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

/**
 * Refuses a URL whose host is, or resolves to, a non-public address (see `ip-ranges`), unless
 * the host is on the operator's allow-list (THODARE_HTTP_ALLOW; exact host names or IPs,
 * case-insensitive). Every address a name resolves to must be public. Residual risk: DNS can
 * change between this check and the connection (rebinding); redirects are re-checked per hop.
 */
export async function assertPublicUrl(
  url: URL,
  allowHosts: readonly string[],
  resolve: HostResolver = dnsResolver,
): Promise<void> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConnectorError(
      'invalid_url',
      `Only http and https URLs are allowed, not ${url.protocol}`,
      { retryable: false },
    );
  }
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (allowHosts.some((allowed) => allowed.toLowerCase() === host)) return;
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = await resolve(host);
    } catch (error) {
      throw new ConnectorError('dns_failed', `Could not resolve ${host}: ${String(error)}`, {
        cause: error,
      });
    }
  }
  for (const address of addresses) {
    const reason = blockedAddressReason(address);
    if (reason) {
      throw new ConnectorError(
        'ssrf_blocked',
        `Refusing to call ${host}: ${reason}. An operator can allow the host with THODARE_HTTP_ALLOW.`,
        {
          retryable: false,
          details: { host, address },
        },
      );
    }
  }
}
