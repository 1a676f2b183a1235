// Where a job's callback may go: a public address over https, or a host:port the operator listed in
// CALLBACK_ALLOW_HOSTS. The API judges a callbackUrl's text at submit; the worker judges it again, with
// the addresses its host resolves to, at delivery (resolveCallbackTarget, in callback.ts). No worker SDK here: the API
// imports this file, and the SDK's worker runtime is no part of the API process.
import { isIP, isIPv4 } from 'node:net';
import { hostKey } from '../config.js';

interface AddressRange {
  readonly base: bigint;
  readonly bits: number;
  readonly kind: string;
}

function range(cidr: string, kind: string): AddressRange {
  const [address, bits] = cidr.split('/') as [string, string];
  return { base: addressValue(address), bits: Number(bits), kind };
}

// IANA's special-purpose registries, the first match naming the kind.
const ipv4Ranges: readonly AddressRange[] = [
  range('0.0.0.0/8', 'an unspecified ("this network") address'),
  range('10.0.0.0/8', 'a private address'),
  range('100.64.0.0/10', 'a carrier-grade NAT address'),
  range('127.0.0.0/8', 'a loopback address'),
  range('169.254.0.0/16', 'a link-local address'),
  range('172.16.0.0/12', 'a private address'),
  range('192.0.0.0/24', 'an IETF protocol address'),
  range('192.0.2.0/24', 'a documentation address'),
  range('192.88.99.0/24', 'a 6to4 relay address'),
  range('192.168.0.0/16', 'a private address'),
  range('198.18.0.0/15', 'a benchmarking address'),
  range('198.51.100.0/24', 'a documentation address'),
  range('203.0.113.0/24', 'a documentation address'),
  range('224.0.0.0/4', 'a multicast address'),
  range('255.255.255.255/32', 'the broadcast address'),
  range('240.0.0.0/4', 'a reserved address'),
];

// Judged before the IPv4-compatible range ::/96 holding them, whose IPv4 reading would name them badly.
const ipv6Unspecified = range('::/128', 'the unspecified address');
const ipv6Loopback = range('::1/128', 'the loopback address');

const ipv6Ranges: readonly AddressRange[] = [
  range('64:ff9b:1::/48', 'a local-use NAT64 address'),
  range('100::/64', 'a discard-only address'),
  range('2001:db8::/32', 'a documentation address'),
  range('2001::/23', 'an IETF protocol address (Teredo, benchmarking…)'),
  range('3fff::/20', 'a documentation address'),
  range('fc00::/7', 'a unique-local address'),
  range('fe80::/10', 'a link-local address'),
  range('fec0::/10', 'a site-local address'),
  range('ff00::/8', 'a multicast address'),
];

/** IPv6 ranges that carry an IPv4 address: judged by that address. `shift`: where its 32 bits end. */
const ipv4Carriers: ReadonlyArray<AddressRange & { readonly shift: bigint }> = [
  { ...range('::ffff:0:0/96', 'an IPv4-mapped IPv6 address'), shift: 0n },
  { ...range('::/96', 'an IPv4-compatible IPv6 address'), shift: 0n },
  { ...range('64:ff9b::/96', 'a NAT64 address'), shift: 0n },
  { ...range('2002::/16', 'a 6to4 address'), shift: 80n },
];

const globalUnicast = range('2000::/3', 'global unicast');

function inRange(value: bigint, width: number, { base, bits }: AddressRange): boolean {
  const drop = BigInt(width - bits);
  return value >> drop === base >> drop;
}

/** An IP address (already checked by `isIP`) as a number: 32 bits for IPv4, 128 for IPv6. */
function addressValue(address: string): bigint {
  if (isIPv4(address)) return address.split('.').reduce((value, part) => (value << 8n) | BigInt(part), 0n);
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = addressValue(dotted[1]!);
    text = `${text.slice(0, dotted.index)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...zeros, ...tailGroups].reduce(
    (value, group) => (value << 16n) | BigInt(parseInt(group, 16)),
    0n,
  );
}

function ipv4Text(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => (value >> shift) & 0xffn).join('.');
}

/**
 * Why an IP address is no callback target ("a loopback address", …), or undefined for a public one.
 * Takes either family, a zone id (`fe80::1%eth0`) or brackets; throws on anything else.
 */
export function addressRefusal(address: string): string | undefined {
  const bare = address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 0) throw new TypeError(`${address} is not an IP address`);
  const value = addressValue(bare);
  if (family === 4) return ipv4Ranges.find((known) => inRange(value, 32, known))?.kind;
  const named = [ipv6Unspecified, ipv6Loopback].find((known) => inRange(value, 128, known));
  if (named) return named.kind;
  const carrier = ipv4Carriers.find((known) => inRange(value, 128, known));
  if (carrier) {
    const v4 = ipv4Text((value >> carrier.shift) & 0xffffffffn);
    const kind = addressRefusal(v4);
    return kind && `${carrier.kind} of ${v4}, ${kind}`;
  }
  const known = ipv6Ranges.find((candidate) => inRange(value, 128, candidate))?.kind;
  return (
    known ?? (inRange(value, 128, globalUnicast) ? undefined : 'a reserved address (outside global unicast 2000::/3)')
  );
}

/** The `host:port` a URL reaches, default port included: what an allow-list entry must equal. */
export function targetKey(url: URL): string {
  return `${hostKey(url.hostname)}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
}

/** The IP address a URL's hostname spells (the URL parser has normalised `2130706433`, `0x7f.1`…), if it is one. */
export function literalAddress(url: URL): string | undefined {
  const bare = url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  return isIP(bare) ? bare : undefined;
}

export const callbackRefusalRemedy =
  'give a public https URL, or have the operator list its host:port in CALLBACK_ALLOW_HOSTS';

/**
 * Why a callbackUrl is refused judging its text alone, or undefined: plain http outside the allow list,
 * or an IP literal that is not public. Host names pass here; the delivery checks what they resolve to.
 */
export function callbackUrlRefusal(url: URL, allowed: readonly string[]): string | undefined {
  if (allowed.includes(targetKey(url))) return undefined;
  if (url.protocol !== 'https:')
    return `plain http goes only to a host:port listed in CALLBACK_ALLOW_HOSTS, and ${targetKey(url)} is not; ${callbackRefusalRemedy}`;
  const literal = literalAddress(url);
  const kind = literal && addressRefusal(literal);
  return kind ? `${literal} is ${kind}; ${callbackRefusalRemedy}` : undefined;
}
