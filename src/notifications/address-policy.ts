/**
 * Where webhooks may go. Checked twice: on the URL at submit (literal addresses and well-known names), and at
 * send time on the host (the allow-list) and every address it resolves to (so a name pointing at
 * 169.254.169.254 is refused too).
 *
 * - Link-local (169.254/16, fe80::/10, including cloud metadata endpoints), unspecified and multicast
 *   addresses: always refused unless the host is listed in WEBHOOK_ALLOWED_HOSTS.
 * - Loopback, RFC 1918, CGNAT and IPv6 ULA: refused unless WEBHOOK_ALLOW_PRIVATE=1 (or the host is listed).
 * - An IPv6 address that carries an IPv4 one (NAT64, 6to4, IPv4-compatible, IPv4-mapped): as that IPv4 address.
 * - WEBHOOK_ALLOWED_HOSTS set: only the listed hosts (`hooks.example.com`, `*.example.com`).
 */
import { BlockList, isIP } from 'node:net';

export interface WebhookPolicy {
  /** Lower-case host names; `*.example.com` matches subdomains. Empty = any host that passes the checks. */
  allowedHosts: readonly string[];
  allowPrivate: boolean;
}

const forbidden = new BlockList();
for (const [net, bits] of [['169.254.0.0', 16], ['0.0.0.0', 8], ['224.0.0.0', 4], ['240.0.0.0', 4]] as const) {
  forbidden.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [['fe80::', 10], ['ff00::', 8], ['::', 128], ['fd00:ec2::254', 128]] as const) {
  forbidden.addSubnet(net, bits, 'ipv6');
}

const privateNets = new BlockList();
for (const [net, bits] of [['127.0.0.0', 8], ['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['100.64.0.0', 10]] as const) {
  privateNets.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [['::1', 128], ['fc00::', 7]] as const) privateNets.addSubnet(net, bits, 'ipv6');

const METADATA_NAMES = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data']);

/** `[::1]` → `::1`; `::ffff:10.0.0.1` → `10.0.0.1`; `localhost.` (fully qualified) → `localhost`. */
function normalizeHost(host: string): string {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.+$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  return mapped ? mapped[1]! : h;
}

/**
 * IPv6 prefixes whose addresses carry an IPv4 address that a gateway (or the host itself) connects to:
 * the well-known NAT64 prefix (64:ff9b::/96, RFC 6052: on an IPv6-only network with DNS64, every name with
 * only an A record resolves to one, 10.0.0.1 to 64:ff9b::a00:1), IPv4-compatible (::/96) and 6to4
 * (2002::/16). Prefix, length and the bit offset of the IPv4 address (`::ffff:0:0/96`, IPv4-mapped, is
 * handled by BlockList itself). A local-use NAT64 prefix (RFC 8215) is the network's choice: not known here.
 */
const EMBEDDING = [
  { net: '64:ff9b::', bits: 96, at: 96 },
  { net: '::', bits: 96, at: 96 },
  { net: '2002::', bits: 16, at: 16 },
] as const;
const embedding = EMBEDDING.map((e) => {
  const list = new BlockList();
  list.addSubnet(e.net, e.bits, 'ipv6');
  return { list, at: e.at };
});

/** The 16 bytes of an IPv6 address (valid, as `isIP` says; no zone). */
function ipv6Bytes(h: string): number[] {
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(h);
  const hex = tail ? h.slice(0, tail.index) + '0:0' : h;
  const [head, rest] = hex.split('::') as [string, string | undefined];
  const words = (s: string | undefined) => (s ? s.split(':').map((w) => parseInt(w, 16)) : []);
  const front = words(head);
  const back = words(rest);
  const all = rest === undefined ? front : [...front, ...Array<number>(8 - front.length - back.length).fill(0), ...back];
  const bytes = all.flatMap((w) => [w >> 8, w & 255]);
  if (tail) bytes.splice(12, 4, ...tail.slice(1).map(Number));
  return bytes;
}

/** The IPv4 address an IPv6 address of one of the EMBEDDING prefixes carries, or null. */
function embeddedIpv4(h: string): string | null {
  const e = embedding.find((x) => x.list.check(h, 'ipv6'));
  if (!e || h === '::' || h === '::1') return null; // the unspecified and loopback addresses, checked as such
  return ipv6Bytes(h).slice(e.at / 8, e.at / 8 + 4).join('.');
}

/** Whether the host is on the allow-list. */
export function isListed(host: string, policy: WebhookPolicy): boolean {
  const h = normalizeHost(host);
  return policy.allowedHosts.some((a) => (a.startsWith('*.') ? h.endsWith(a.slice(1)) : normalizeHost(a) === h));
}

/** Why an address (or a well-known name) may not be called, or null if it may. */
export function addressRefusal(hostOrIp: string, policy: WebhookPolicy): string | null {
  const h = normalizeHost(hostOrIp);
  const family = isIP(h);
  if (family === 0) {
    if (METADATA_NAMES.has(h)) return `${h} is a cloud metadata endpoint`;
    if (h === 'localhost' || h.endsWith('.localhost')) return policy.allowPrivate ? null : `${h} is a loopback name`;
    return null;
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (forbidden.check(h, type)) return `${h} is a link-local, metadata, multicast or unspecified address`;
  if (!policy.allowPrivate && privateNets.check(h, type)) return `${h} is a loopback or private-network address`;
  const v4 = family === 6 ? embeddedIpv4(h) : null;
  const inner = v4 === null ? null : addressRefusal(v4, policy);
  return inner === null ? null : `${h} is ${v4} in IPv6 (NAT64, 6to4 or IPv4-compatible): ${inner}`;
}

/**
 * Why a host is refused by WEBHOOK_ALLOWED_HOSTS (set, and the host not on it), or null. At submit and at
 * every send: a list narrowed since a job was submitted stops its webhooks to a host taken off it.
 */
export function listRefusal(host: string, policy: WebhookPolicy): string | null {
  return policy.allowedHosts.length && !isListed(host, policy) ? `webhook host ${normalizeHost(host)} is not in the server's allow-list` : null;
}

/**
 * Why `policy` refuses a webhook URL before any DNS lookup, or null: the allow-list, and a literal address
 * (never looked up). Checked at every send (the policy may have changed since the submit), and by a
 * notifier before it takes a delivery (notifier.ts: another process's policy may let it through).
 */
export function policyRefusal(url: URL, policy: WebhookPolicy): string | null {
  const unlisted = listRefusal(url.hostname, policy);
  if (unlisted) return unlisted;
  const literal = isIP(url.hostname.replace(/^\[|\]$/g, '')) && !isListed(url.hostname, policy) ? addressRefusal(url.hostname, policy) : null;
  return literal && `webhook refused: ${literal}`;
}

/**
 * Checks a webhook URL at submit. Returns the URL, or the user-error code and message.
 */
export function checkWebhookUrl(
  raw: string,
  policy: WebhookPolicy,
): { url: URL } | { code: 'INVALID_WEBHOOK_URL' | 'WEBHOOK_NOT_ALLOWED'; message: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { code: 'INVALID_WEBHOOK_URL', message: 'webhook must be an absolute URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { code: 'INVALID_WEBHOOK_URL', message: 'webhook must be an http or https URL' };
  }
  if (url.username || url.password) {
    return { code: 'INVALID_WEBHOOK_URL', message: 'webhook URL must not contain credentials' };
  }
  if (raw.length > 2048) return { code: 'INVALID_WEBHOOK_URL', message: 'webhook URL is longer than 2048 characters' };
  url.hash = ''; // never sent: `…/x#a` and `…/x` are one receiver
  if (isListed(url.hostname, policy)) return { url };
  const unlisted = listRefusal(url.hostname, policy);
  if (unlisted) return { code: 'WEBHOOK_NOT_ALLOWED', message: unlisted };
  const refusal = addressRefusal(url.hostname, policy);
  return refusal ? { code: 'WEBHOOK_NOT_ALLOWED', message: `webhook refused: ${refusal}` } : { url };
}
