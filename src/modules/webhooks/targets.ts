/**
 * SSRF protection for outbound webhook deliveries. A partner registers a URL and the dispatcher
 * POSTs events to it, so a URL must never let a partner reach our own network: loopback, private,
 * link-local (cloud metadata), CGNAT, multicast and other non-public addresses are refused at
 * registration (checkTargetUrl) and again on the address DNS resolves to at connect time
 * (guardedLookup), which defeats DNS rebinding. WEBHOOK_ALLOW_PRIVATE_TARGETS (allowPrivate) lifts
 * the address rules for local development and tests only.
 */
import { lookup as dnsLookup } from 'node:dns'
import type { LookupAddress, LookupOptions } from 'node:dns'
import { isIP } from 'node:net'
import type { LookupFunction } from 'node:net'
import type { Mode } from '../../config.ts'

export type TargetProblem = {
  code: 'invalid_url' | 'scheme' | 'https_required' | 'credentials' | 'forbidden_address' | 'too_long'
  message: string
}

export const MAX_TARGET_URL_LENGTH = 2048

/**
 * Registration-time check of a webhook URL; null when acceptable. WHATWG parsing already turns
 * decimal, octal and hex IPv4 hosts into dotted form, so an IP literal is classified as written.
 * A hostname's addresses are only known at connect time: that is guardedLookup's job.
 */
export function checkTargetUrl(raw: string, options: { mode: Mode; allowPrivate: boolean }): TargetProblem | null {
  if (raw.length > MAX_TARGET_URL_LENGTH) {
    return problem('too_long', `URL is ${raw.length} characters long; the limit is ${MAX_TARGET_URL_LENGTH}`)
  }
  const url = parseUrl(raw)
  if (!url) return problem('invalid_url', 'not an absolute URL')
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return problem('scheme', `scheme "${url.protocol.slice(0, -1)}" is not allowed; use https (or http in test mode)`)
  }
  if (options.mode === 'live' && url.protocol !== 'https:') {
    return problem('https_required', 'live mode webhook URLs must use https')
  }
  if (url.username !== '' || url.password !== '') {
    return problem('credentials', 'URL must not contain a username or password')
  }
  if (!options.allowPrivate && isForbiddenHost(url.hostname)) {
    return problem('forbidden_address', `host ${url.hostname} is a loopback, private or otherwise non-public address`)
  }
  return null
}

function problem(code: TargetProblem['code'], message: string): TargetProblem {
  return { code, message }
}

function parseUrl(raw: string): URL | null {
  try {
    return new URL(raw)
  } catch {
    return null
  }
}

/** URL.hostname of an IP literal or a localhost name; other names are left to guardedLookup. */
function isForbiddenHost(hostname: string): boolean {
  if (hostname.startsWith('[')) return isForbiddenAddress(hostname.slice(1, -1))
  if (isIP(hostname) === 4) return isForbiddenAddress(hostname)
  const name = hostname.toLowerCase().replace(/\.+$/, '')
  return name === 'localhost' || name.endsWith('.localhost')
}

/**
 * True when an address must never be a webhook target: anything that is not a public unicast
 * address, including the IPv4 address embedded in IPv4-mapped, IPv4-compatible, NAT64 and 6to4
 * IPv6 forms. Anything that is not a valid IP address (or carries an IPv6 zone) is refused too.
 */
export function isForbiddenAddress(address: string): boolean {
  switch (isIP(address)) {
    case 4:
      return isForbiddenIpv4(parseIpv4(address))
    case 6:
      return address.includes('%') || isForbiddenIpv6(parseIpv6(address))
    default:
      return true
  }
}

// 0/8 unspecified, 10/8, 100.64/10 CGNAT (and Alibaba's metadata), 127/8, 169.254/16 link-local
// (and the metadata service), 172.16/12, 192.0.0/24 IETF protocol assignments (Oracle's metadata),
// 192.0.2/24, 198.51.100/24 and 203.0.113/24 documentation, 192.88.99/24 6to4 relay, 192.168/16,
// 198.18/15 benchmarking, 224/4 multicast, 240/4 reserved including 255.255.255.255 broadcast
const FORBIDDEN_IPV4 = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12',
  '192.0.0.0/24', '192.0.2.0/24', '192.88.99.0/24', '192.168.0.0/16', '198.18.0.0/15',
  '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/4', '240.0.0.0/4',
].map((cidr) => {
  const [network = '', prefix = ''] = cidr.split('/')
  return { network: parseIpv4(network), size: 2 ** (32 - Number(prefix)) }
})

/** Dotted quad (net.isIP-valid) to an unsigned 32-bit number. */
function parseIpv4(address: string): number {
  return address.split('.').reduce((value, octet) => value * 256 + Number(octet), 0)
}

function isForbiddenIpv4(value: number): boolean {
  return FORBIDDEN_IPV4.some(({ network, size }) => Math.floor(value / size) === Math.floor(network / size))
}

/** net.isIP-valid IPv6 without a zone to 8 hextets, a trailing dotted IPv4 included. */
function parseIpv6(address: string): number[] {
  const [head = '', tail] = address.split('::')
  const groups = (part: string): number[] => (part === '' ? [] : part.split(':').flatMap(ipv6Group))
  const left = groups(head)
  const right = tail === undefined ? [] : groups(tail)
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right]
}

function ipv6Group(group: string): number[] {
  if (!group.includes('.')) return [parseInt(group, 16)]
  const value = parseIpv4(group)
  return [Math.floor(value / 0x10000), value % 0x10000]
}

// Inside 2000::/3: 2001::/23 IETF special purpose (Teredo 2001::/32 hides the real peer,
// benchmarking, ORCHID), 2001:db8::/32 and 3fff::/20 documentation
const FORBIDDEN_GLOBAL_IPV6 = ['2001::/23', '2001:db8::/32', '3fff::/20'].map((cidr) => {
  const [network = '', prefix = ''] = cidr.split('/')
  return { network: parseIpv6(network), prefix: Number(prefix) }
})

/**
 * Only 2000::/3 (global unicast) is ever public, which rules out ::, ::1, fc00::/7, fe80::/10,
 * fec0::/10, ff00::/8, 100::/64 and 64:ff9b:1::/48 at once; forms that carry an IPv4 address are
 * judged by that address.
 */
function isForbiddenIpv6(hextets: number[]): boolean {
  const embedded = embeddedIpv4Of(hextets)
  if (embedded !== null) return isForbiddenIpv4(embedded)
  if (!inIpv6Cidr(hextets, [0x2000], 3)) return true
  return FORBIDDEN_GLOBAL_IPV6.some(({ network, prefix }) => inIpv6Cidr(hextets, network, prefix))
}

function inIpv6Cidr(hextets: number[], network: number[], prefix: number): boolean {
  return hextets.every((hextet, i) => {
    const bits = Math.min(Math.max(prefix - 16 * i, 0), 16)
    const mask = (0xffff << (16 - bits)) & 0xffff
    return (hextet & mask) === ((network[i] ?? 0) & mask)
  })
}

/**
 * The IPv4 address carried by ::a.b.c.d (compatible; :: and ::1 give 0.0.0.0 and 0.0.0.1, both
 * forbidden), ::ffff:a.b.c.d (mapped), ::ffff:0:a.b.c.d (SIIT), 64:ff9b::a.b.c.d (NAT64) and
 * 2002:aabb:ccdd::/16 (6to4); null when there is none.
 */
function embeddedIpv4Of(hextets: number[]): number | null {
  const [a, b, c, d, e, f, g = 0, h = 0] = hextets
  const high64Zero = a === 0 && b === 0 && c === 0 && d === 0
  if (high64Zero && e === 0 && (f === 0 || f === 0xffff)) return g * 0x10000 + h
  if (high64Zero && e === 0xffff && f === 0) return g * 0x10000 + h
  if (a === 0x64 && b === 0xff9b && c === 0 && d === 0 && e === 0 && f === 0) return g * 0x10000 + h
  if (a === 0x2002) return (b ?? 0) * 0x10000 + (c ?? 0)
  return null
}

/** The Error guardedLookup reports instead of an address; net and undici pass it to the caller. */
export class ForbiddenTargetError extends Error {
  readonly code = 'WEBHOOK_TARGET_FORBIDDEN'

  constructor(
    readonly hostname: string,
    readonly address: string,
  ) {
    super(`webhook target ${hostname} resolved to ${address}, a loopback, private or otherwise non-public address`)
    this.name = 'ForbiddenTargetError'
  }
}

/** A resolver with dns.lookup's callback contract (dns.lookup itself fits). */
export type Resolver = LookupFunction

/**
 * A dns.lookup replacement for net.connect / undici's `connect: { lookup }`: the address is
 * checked after resolution, right before the socket connects, so a name that resolves to a public
 * address at registration and to 127.0.0.1 later (DNS rebinding) still never gets a socket.
 * With `all: true` one forbidden address refuses the whole answer. Note that net.connect skips
 * lookup for an IP-literal host, which is why checkTargetUrl must also pass.
 */
export function guardedLookup(options: { allowPrivate: boolean; resolver?: Resolver }): LookupFunction {
  const resolve: Resolver = options.resolver ?? dnsLookup
  return (hostname, lookupOptions, callback) => {
    resolve(hostname, lookupOptions, (error, address, family) => {
      if (error || options.allowPrivate) return callback(error, address, family)
      const forbidden = firstForbidden(address)
      if (forbidden === undefined) return callback(null, address, family)
      callback(new ForbiddenTargetError(hostname, forbidden), noAddress(lookupOptions))
    })
  }
}

function firstForbidden(address: string | LookupAddress[]): string | undefined {
  const addresses = Array.isArray(address) ? address.map((entry) => entry.address) : [address]
  return addresses.find(isForbiddenAddress)
}

function noAddress(lookupOptions: LookupOptions): string | LookupAddress[] {
  return lookupOptions.all ? [] : ''
}
