import { isIPv4, isIPv6 } from 'node:net';

/**
 * Classifies IP addresses for the SSRF guard: which ones a workflow must not reach (loopback,
 * private, link-local incl. cloud metadata, CGNAT, multicast, reserved, documentation, IPv6 ULA,
 * IPv4-mapped/compatible; NAT64 and 6to4 by the IPv4 address they embed).
 */
const BLOCKED_V4: readonly [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];

function v4ToInt(address: string): number {
  return address.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

function inV4Range(value: number, [base, bits]: readonly [string, number]): boolean {
  const size = 2 ** (32 - bits);
  const start = v4ToInt(base);
  return value >= start && value < start + size;
}

/** 8 16-bit groups of an IPv6 address (zone id ignored, embedded dotted quad supported). */
export function parseIPv6(address: string): number[] | undefined {
  let text = address.split('%')[0] ?? '';
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const v4 = v4ToInt(dotted[1]);
    text = `${text.slice(0, -dotted[1].length)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? left.length !== 8 : missing < 0) return undefined;
  const groups = [
    ...left,
    ...Array<string>(tail === undefined ? 0 : missing).fill('0'),
    ...right,
  ].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => g >= 0 && g <= 0xffff) ? groups : undefined;
}

function embeddedV4(high: number, low: number): string {
  return [high >>> 8, high & 255, low >>> 8, low & 255].join('.');
}

/** Why an address must not be reached, or undefined when it is public. */
export function blockedAddressReason(address: string): string | undefined {
  if (isIPv4(address)) {
    const value = v4ToInt(address);
    const range = BLOCKED_V4.find((r) => inV4Range(value, r));
    return range ? `${address} is in the non-public range ${range[0]}/${range[1]}` : undefined;
  }
  const g = isIPv6(address.split('%')[0] ?? '') ? parseIPv6(address) : undefined;
  if (!g) return `${address} is not an IP address`;
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, h = 0, i = 0] = g;
  const zeros = a === 0 && b === 0 && c === 0 && d === 0 && e === 0;
  if (zeros && f === 0 && h === 0 && (i === 0 || i === 1))
    return `${address} is the IPv6 unspecified or loopback address`;
  if (zeros && f === 0xffff) return `${address} is an IPv4-mapped IPv6 address`;
  if (zeros && f === 0) return `${address} is an IPv4-compatible IPv6 address`;
  if ((a & 0xfe00) === 0xfc00) return `${address} is an IPv6 unique local address (fc00::/7)`;
  if ((a & 0xffc0) === 0xfe80) return `${address} is an IPv6 link-local address (fe80::/10)`;
  if ((a & 0xff00) === 0xff00) return `${address} is an IPv6 multicast address`;
  if (a === 0x2001 && b === 0x0db8) return `${address} is an IPv6 documentation address`;
  if (a === 0x64 && b === 0xff9b) return blockedAddressReason(embeddedV4(h, i));
  if (a === 0x2002) return blockedAddressReason(embeddedV4(b, c));
  return undefined;
}
