/**
 * Where a webhook may be sent: `http:` or `https:` URLs whose host is not on loopback, a private
 * network, link-local (cloud metadata services live at 169.254.169.254) or another address that
 * is not a public unicast one — unless `WEBHOOK_ALLOW_PRIVATE=true`. The URL is checked when a
 * Subscription is written (its literal address, and names reserved for loopback); every delivery
 * checks again the addresses its host name resolves to, and connects to the one it checked, so
 * DNS cannot be made to point elsewhere in between (src/webhooks/post-webhook.ts).
 * https://www.iana.org/assignments/iana-ipv4-special-registry/,
 * https://www.iana.org/assignments/iana-ipv6-special-registry/
 */
import { BlockList, isIP } from 'node:net';

/** Ranges that are not public unicast addresses (IPv4-mapped IPv6 addresses match the IPv4 ones). */
const NOT_PUBLIC = (() => {
  const list = new BlockList();
  const v4: [string, number][] = [
    ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
    ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
    ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
  ];
  const v6: [string, number][] = [
    ['::', 128], ['::1', 128], ['::', 96], ['100::', 64], ['2001:db8::', 32], ['2002::', 16], ['fc00::', 7], ['fe80::', 10],
    ['fec0::', 10], ['ff00::', 8],
  ];
  for (const [net, prefix] of v4) list.addSubnet(net, prefix, 'ipv4');
  for (const [net, prefix] of v6) list.addSubnet(net, prefix, 'ipv6');
  return list;
})();

/** The NAT64 prefix (RFC 6052): its last 32 bits are an IPv4 address, judged as such. */
const NAT64 = (() => {
  const list = new BlockList();
  list.addSubnet('64:ff9b::', 96, 'ipv6');
  return list;
})();

/** The eight 16-bit words of a valid IPv6 address (`::` expanded, a dotted IPv4 tail included). */
function ipv6Words(ip: string): number[] {
  let text = ip;
  let tail: number[] = [];
  const dotted = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    tail = [(a << 8) | b, (c << 8) | d];
    text = text.slice(0, dotted.index);
    if (text.endsWith(':') && !text.endsWith('::')) text = text.slice(0, -1);
  }
  const words = (part: string) => part.split(':').filter(Boolean).map((w) => parseInt(w, 16));
  if (!text.includes('::')) return [...words(text), ...tail];
  const [head, rest] = text.split('::');
  const left = words(head);
  const right = words(rest);
  return [...left, ...new Array<number>(8 - left.length - right.length - tail.length).fill(0), ...right, ...tail];
}

/** The IPv4 address in the last 32 bits of an IPv6 address. */
function embeddedIPv4(ipv6: string): string {
  const words = ipv6Words(ipv6);
  const [high, low] = words.slice(-2);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** True when `ip` (a literal IPv4 or IPv6 address) is not a public unicast address. */
export function isPrivateAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) return NOT_PUBLIC.check(ip, 'ipv4');
  if (family === 6) {
    if (NAT64.check(ip, 'ipv6')) return NOT_PUBLIC.check(embeddedIPv4(ip), 'ipv4');
    return NOT_PUBLIC.check(ip, 'ipv6');
  }
  return true; // not an address at all: never connect to it
}

/** A URL's host without IPv6 brackets or a trailing dot, lower-cased (the WHATWG parser already normalised IPv4 forms). */
export function hostOf(url: URL): string {
  let host = url.hostname.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  while (host.endsWith('.')) host = host.slice(0, -1);
  return host;
}

/** Names that always mean this machine (RFC 6761 §6.3). */
function isLoopbackName(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost');
}

/**
 * Why `text` cannot be a webhook endpoint, or undefined when it can: not an absolute http(s)
 * URL, credentials in the URL, or (unless `allowPrivate`) a host that is a non-public address
 * or a loopback name. Host names are resolved only at delivery.
 */
export function endpointProblem(text: string, allowPrivate: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'channel.endpoint must be an absolute http or https URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `channel.endpoint must use http or https, not ${url.protocol.slice(0, -1).slice(0, 20)}`;
  if (url.username || url.password) return 'channel.endpoint must not carry credentials: send them in channel.header or sign with the Subscription secret';
  const host = hostOf(url);
  if (!host) return 'channel.endpoint needs a host';
  if (allowPrivate) return undefined;
  if (isIP(host) ? isPrivateAddress(host) : isLoopbackName(host)) {
    return `channel.endpoint ${host} is a loopback, private or link-local address, which webhooks may not reach (WEBHOOK_ALLOW_PRIVATE is off)`;
  }
  return undefined;
}
