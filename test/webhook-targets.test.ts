import type { LookupAddress, LookupOptions } from 'node:dns'
import { createServer, request } from 'node:http'
import type { Server } from 'node:http'
import { connect } from 'node:net'
import type { AddressInfo, LookupFunction } from 'node:net'
import { Agent, request as undiciRequest } from 'undici'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { checkTargetUrl, guardedLookup, isForbiddenAddress } from '../src/modules/webhooks/targets.ts'
import type { Resolver, TargetProblem } from '../src/modules/webhooks/targets.ts'

// SSRF is never tested by sending traffic to a forbidden address on the network: the resolver is
// a stub, and the only socket that may open goes to a local server that counts connections.

const FORBIDDEN = [
  ['0.0.0.0', 'unspecified'],
  ['0.1.2.3', 'this network 0/8'],
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback, end of 127/8'],
  ['10.0.0.1', 'private 10/8'],
  ['172.16.0.1', 'private 172.16/12, start'],
  ['172.31.255.255', 'private 172.16/12, end'],
  ['192.168.1.1', 'private 192.168/16'],
  ['169.254.169.254', 'link-local, cloud metadata'],
  ['169.254.0.1', 'link-local'],
  ['100.64.0.1', 'CGNAT, start'],
  ['100.127.255.255', 'CGNAT, end'],
  ['100.100.100.200', 'CGNAT, Alibaba metadata'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast, end'],
  ['240.0.0.1', 'reserved 240/4'],
  ['255.255.255.255', 'broadcast'],
  ['192.0.0.192', '192.0.0/24, Oracle metadata'],
  ['192.0.2.1', 'TEST-NET-1'],
  ['198.51.100.7', 'TEST-NET-2'],
  ['203.0.113.9', 'TEST-NET-3'],
  ['198.18.0.1', 'benchmarking 198.18/15, start'],
  ['198.19.255.255', 'benchmarking 198.18/15, end'],
  ['192.88.99.1', '6to4 relay anycast'],
  ['::', 'IPv6 unspecified'],
  ['::1', 'IPv6 loopback'],
  ['0:0:0:0:0:0:0:1', 'IPv6 loopback, uncompressed'],
  ['fc00::1', 'unique local fc00::/7'],
  ['fd00:ec2::254', 'unique local, AWS metadata'],
  ['fe80::1', 'IPv6 link-local'],
  ['febf:ffff::1', 'IPv6 link-local, end of fe80::/10'],
  ['fe80::1%eth0', 'IPv6 link-local with a zone'],
  ['fec0::1', 'deprecated site-local'],
  ['ff02::1', 'IPv6 multicast'],
  ['ff0e::1', 'IPv6 global multicast'],
  ['2001:db8::1', 'IPv6 documentation'],
  ['3fff::1', 'IPv6 documentation 3fff::/20'],
  ['2001::1', 'Teredo'],
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo, full form'],
  ['100::1', 'discard-only 100::/64'],
  ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
  ['::ffff:7f00:1', 'IPv4-mapped loopback, hex'],
  ['::ffff:169.254.169.254', 'IPv4-mapped metadata'],
  ['::ffff:a9fe:a9fe', 'IPv4-mapped metadata, hex'],
  ['::ffff:10.1.2.3', 'IPv4-mapped private'],
  ['0:0:0:0:0:ffff:c0a8:101', 'IPv4-mapped private, uncompressed hex'],
  ['::ffff:0:7f00:1', 'IPv4-translated (SIIT) loopback'],
  ['::127.0.0.1', 'IPv4-compatible loopback'],
  ['::7f00:1', 'IPv4-compatible loopback, hex'],
  ['::a9fe:a9fe', 'IPv4-compatible metadata, hex'],
  ['64:ff9b::127.0.0.1', 'NAT64 loopback'],
  ['64:ff9b::a9fe:a9fe', 'NAT64 metadata, hex'],
  ['64:ff9b:1::8.8.8.8', 'local-use NAT64 64:ff9b:1::/48'],
  ['2002:7f00:1::', '6to4 of loopback'],
  ['2002:a9fe:a9fe::1', '6to4 of metadata'],
  ['2002:c0a8:101::1', '6to4 of private'],
  ['2130706433', 'decimal IPv4 is not an address string'],
  ['0177.0.0.1', 'octal IPv4 is not an address string'],
  ['0x7f.0.0.1', 'hex IPv4 is not an address string'],
  ['127.1', 'short IPv4 is not an address string'],
  ['[::1]', 'bracketed IPv6 is not an address string'],
  ['localhost', 'a name'],
  ['', 'empty'],
  ['not an ip', 'garbage'],
] as const

const ALLOWED = [
  ['8.8.8.8', 'Google DNS'],
  ['1.1.1.1', 'Cloudflare DNS'],
  ['9.255.255.255', 'just below 10/8'],
  ['11.0.0.0', 'just above 10/8'],
  ['100.63.255.255', 'just below CGNAT'],
  ['100.128.0.0', 'just above CGNAT'],
  ['172.15.255.255', 'just below 172.16/12'],
  ['172.32.0.0', 'just above 172.16/12'],
  ['169.253.255.255', 'just below link-local'],
  ['192.167.255.255', 'just below 192.168/16'],
  ['198.17.255.255', 'just below benchmarking'],
  ['198.20.0.0', 'just above benchmarking'],
  ['223.255.255.255', 'just below multicast'],
  ['2606:4700:4700::1111', 'Cloudflare DNS IPv6'],
  ['2001:4860:4860::8888', 'Google DNS IPv6'],
  ['2a00:1450:4001:82b::200e', 'a global IPv6 address'],
  ['::ffff:8.8.8.8', 'IPv4-mapped public'],
  ['::ffff:808:808', 'IPv4-mapped public, hex'],
  ['64:ff9b::8.8.8.8', 'NAT64 of public'],
  ['2002:808:808::1', '6to4 of public'],
  ['2001:200::1', 'just above 2001::/23'],
] as const

describe('isForbiddenAddress', () => {
  it.each(FORBIDDEN)('refuses %s (%s)', (address) => {
    expect(isForbiddenAddress(address)).toBe(true)
  })

  it.each(ALLOWED)('allows %s (%s)', (address) => {
    expect(isForbiddenAddress(address)).toBe(false)
  })
})

const strict = { mode: 'live', allowPrivate: false } as const
const testMode = { mode: 'test', allowPrivate: false } as const
const permissive = { mode: 'test', allowPrivate: true } as const
type Options = Parameters<typeof checkTargetUrl>[1]

const URLS: readonly (readonly [url: string, options: Options, expected: TargetProblem['code'] | null])[] = [
  ['https://hooks.example.com/travobooks', strict, null],
  ['https://hooks.example.com:8443/path?q=1#fragment', strict, null],
  ['https://8.8.8.8/hook', strict, null],
  ['https://[2606:4700:4700::1111]/hook', strict, null],
  ['http://hooks.example.com/hook', testMode, null],
  ['http://hooks.example.com/hook', strict, 'https_required'],
  ['ftp://hooks.example.com/hook', testMode, 'scheme'],
  ['file:///etc/passwd', testMode, 'scheme'],
  ['javascript:alert(1)', testMode, 'scheme'],
  ['gopher://127.0.0.1:6379/_INFO', permissive, 'scheme'],
  ['https://user:pass@hooks.example.com/', strict, 'credentials'],
  ['https://user@hooks.example.com/', strict, 'credentials'],
  ['https://:pass@hooks.example.com/', strict, 'credentials'],
  ['not a url', strict, 'invalid_url'],
  ['hooks.example.com/hook', strict, 'invalid_url'],
  ['/relative/path', strict, 'invalid_url'],
  ['', strict, 'invalid_url'],
  ['https://', strict, 'invalid_url'],
  ['http://1.2.3.4.5/', testMode, 'invalid_url'],
  [`https://hooks.example.com/${'a'.repeat(2048)}`, strict, 'too_long'],
  [`https://hooks.example.com/${'a'.repeat(2048 - 'https://hooks.example.com/'.length)}`, strict, null],
  ['https://127.0.0.1/', strict, 'forbidden_address'],
  ['http://2130706433/', testMode, 'forbidden_address'],
  ['http://0177.0.0.1/', testMode, 'forbidden_address'],
  ['http://0x7f.0.0.1/', testMode, 'forbidden_address'],
  ['http://0x7f000001/', testMode, 'forbidden_address'],
  ['http://017700000001/', testMode, 'forbidden_address'],
  ['http://127.1/', testMode, 'forbidden_address'],
  ['http://127.0.0.1./', testMode, 'forbidden_address'],
  ['https://0/', strict, 'forbidden_address'],
  ['https://169.254.169.254/latest/meta-data/', strict, 'forbidden_address'],
  ['https://2852039166/', strict, 'forbidden_address'],
  ['https://10.0.0.1:8443/', strict, 'forbidden_address'],
  ['https://192.168.0.10/', strict, 'forbidden_address'],
  ['https://100.64.0.1/', strict, 'forbidden_address'],
  ['https://[::1]/', strict, 'forbidden_address'],
  ['https://[::]/', strict, 'forbidden_address'],
  ['https://[::ffff:127.0.0.1]/', strict, 'forbidden_address'],
  ['https://[::ffff:7f00:1]/', strict, 'forbidden_address'],
  ['https://[fe80::1]/', strict, 'forbidden_address'],
  ['https://[fd00:ec2::254]/', strict, 'forbidden_address'],
  ['https://[64:ff9b::169.254.169.254]/', strict, 'forbidden_address'],
  ['https://[2002:7f00:1::]/', strict, 'forbidden_address'],
  ['https://localhost/', strict, 'forbidden_address'],
  ['https://LOCALHOST:3000/', strict, 'forbidden_address'],
  ['https://localhost./', strict, 'forbidden_address'],
  ['https://api.localhost/', strict, 'forbidden_address'],
  ['https://a.b.localhost../', strict, 'forbidden_address'],
  ['https://localhost.example.com/', strict, null],
  ['https://notlocalhost/', strict, null],
  ['http://127.0.0.1:3000/hook', permissive, null],
  ['http://localhost:3000/hook', permissive, null],
  ['http://[::1]:3000/hook', permissive, null],
  ['https://169.254.169.254/', { mode: 'live', allowPrivate: true }, null],
  ['http://10.0.0.1/', { mode: 'live', allowPrivate: true }, 'https_required'],
  ['https://user:pass@127.0.0.1/', permissive, 'credentials'],
]

describe('checkTargetUrl', () => {
  it.each(URLS)('%s with %o → %s', (url, options, expected) => {
    const result = checkTargetUrl(url, options)
    expect(result?.code ?? null).toBe(expected)
    if (result) expect(result.message).toEqual(expect.any(String))
  })

  it('names the reason precisely', () => {
    expect(checkTargetUrl('https://user:pass@example.com/', strict)?.message).toMatch(/username or password/)
    expect(checkTargetUrl('http://example.com/', strict)?.message).toMatch(/https/)
    expect(checkTargetUrl('ftp://example.com/', strict)?.message).toMatch(/"ftp"/)
    expect(checkTargetUrl('http://0177.0.0.1/', testMode)?.message).toMatch(/127\.0\.0\.1/)
    expect(checkTargetUrl(`https://example.com/${'a'.repeat(3000)}`, strict)?.message).toMatch(/2048/)
  })
})

/** Answers from a table, records every call, and never touches real DNS. */
function fakeResolver(answers: Record<string, LookupAddress[]>) {
  const calls: { hostname: string; options: LookupOptions }[] = []
  const resolver: Resolver = (hostname, options, callback) => {
    calls.push({ hostname, options })
    const addresses = answers[hostname]
    queueMicrotask(() => {
      if (!addresses) {
        const error: NodeJS.ErrnoException = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
          code: 'ENOTFOUND',
        })
        callback(error, options.all ? [] : '')
      } else if (options.all) {
        callback(null, addresses)
      } else {
        const [first] = addresses
        callback(null, first?.address ?? '', first?.family)
      }
    })
  }
  return { resolver, calls }
}

type LookupResult = { error: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number }

function runLookup(lookup: LookupFunction, hostname: string, options: LookupOptions): Promise<LookupResult> {
  return new Promise((resolve) => {
    lookup(hostname, options, (error, address, family) => resolve({ error, address, family }))
  })
}

const ANSWERS: Record<string, LookupAddress[]> = {
  'rebind.example': [{ address: '127.0.0.1', family: 4 }],
  'metadata.example': [{ address: '169.254.169.254', family: 4 }],
  'mapped.example': [{ address: '::ffff:7f00:1', family: 6 }],
  'mixed.example': [
    { address: '93.184.215.14', family: 4 },
    { address: '10.0.0.5', family: 4 },
  ],
  'public.example': [
    { address: '93.184.215.14', family: 4 },
    { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 },
  ],
}

describe('guardedLookup', () => {
  it.each(['rebind.example', 'metadata.example', 'mapped.example'])('refuses %s in the single form', async (hostname) => {
    const { resolver } = fakeResolver(ANSWERS)
    const result = await runLookup(guardedLookup({ allowPrivate: false, resolver }), hostname, {})
    expect(result.error?.code).toBe('WEBHOOK_TARGET_FORBIDDEN')
    expect(result.error?.message).toContain(hostname)
    expect(result.error?.message).toContain(ANSWERS[hostname]?.[0]?.address)
    expect(result.address).toBe('')
  })

  it('refuses the whole answer in the all form when any address is forbidden', async () => {
    const { resolver } = fakeResolver(ANSWERS)
    const result = await runLookup(guardedLookup({ allowPrivate: false, resolver }), 'mixed.example', { all: true })
    expect(result.error?.code).toBe('WEBHOOK_TARGET_FORBIDDEN')
    expect(result.error?.message).toContain('10.0.0.5')
    expect(result.address).toEqual([])
  })

  it('passes public answers through unchanged, in both forms', async () => {
    const { resolver, calls } = fakeResolver(ANSWERS)
    const lookup = guardedLookup({ allowPrivate: false, resolver })
    expect(await runLookup(lookup, 'public.example', { all: true })).toEqual({
      error: null,
      address: ANSWERS['public.example'],
      family: undefined,
    })
    expect(await runLookup(lookup, 'public.example', { family: 4 })).toEqual({
      error: null,
      address: '93.184.215.14',
      family: 4,
    })
    expect(calls.map((call) => call.options)).toEqual([{ all: true }, { family: 4 }])
  })

  it('passes private answers through when allowPrivate is set', async () => {
    const { resolver } = fakeResolver(ANSWERS)
    const lookup = guardedLookup({ allowPrivate: true, resolver })
    expect(await runLookup(lookup, 'rebind.example', {})).toMatchObject({ error: null, address: '127.0.0.1', family: 4 })
    expect(await runLookup(lookup, 'mixed.example', { all: true })).toMatchObject({
      error: null,
      address: ANSWERS['mixed.example'],
    })
  })

  it('passes resolver errors through', async () => {
    const { resolver } = fakeResolver(ANSWERS)
    const result = await runLookup(guardedLookup({ allowPrivate: false, resolver }), 'nowhere.example', {})
    expect(result.error?.code).toBe('ENOTFOUND')
  })
})

describe('guardedLookup at connect time (DNS rebinding)', () => {
  let server: Server
  let port: number
  let connections: number

  beforeEach(async () => {
    connections = 0
    server = createServer((_request, response) => response.writeHead(204).end())
    server.on('connection', () => connections++)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  })

  afterEach(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })

  function post(lookup: LookupFunction): Promise<number> {
    return new Promise((resolve, reject) => {
      const outgoing = request({ host: 'rebind.example', port, method: 'POST', path: '/', lookup, agent: false })
      outgoing.on('response', (response) => {
        response.resume()
        resolve(response.statusCode ?? 0)
      })
      outgoing.on('error', reject)
      outgoing.end('{}')
    })
  }

  function open(lookup: LookupFunction, autoSelectFamily: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: 'rebind.example', port, lookup, autoSelectFamily })
      socket.on('connect', () => {
        socket.destroy()
        resolve()
      })
      socket.on('error', reject)
    })
  }

  /** The dispatcher's path: undici with the guard as its connect-time lookup. */
  async function deliver(lookup: LookupFunction): Promise<number> {
    const agent = new Agent({ connect: { lookup } })
    try {
      const response = await undiciRequest(`http://rebind.example:${port}/`, { method: 'POST', body: '{}', dispatcher: agent })
      await response.body.dump()
      return response.statusCode
    } finally {
      await agent.close()
    }
  }

  function causeCodes(error: unknown): unknown[] {
    const codes: unknown[] = []
    for (let cause = error; cause instanceof Error; cause = cause.cause) codes.push((cause as NodeJS.ErrnoException).code)
    return codes
  }

  it('undici opens no socket when the name resolves to loopback', async () => {
    const { resolver, calls } = fakeResolver(ANSWERS)
    const error = await deliver(guardedLookup({ allowPrivate: false, resolver })).then(
      () => null,
      (reason: unknown) => reason,
    )
    expect(causeCodes(error)).toContain('WEBHOOK_TARGET_FORBIDDEN')
    expect(calls.map((call) => call.hostname)).toEqual(['rebind.example'])
    expect(connections).toBe(0)
  })

  it('undici reaches the server when allowPrivate is set', async () => {
    const { resolver } = fakeResolver(ANSWERS)
    expect(await deliver(guardedLookup({ allowPrivate: true, resolver }))).toBe(204)
    expect(connections).toBe(1)
  })

  it('node:http opens no socket when the name resolves to loopback', async () => {
    const { resolver, calls } = fakeResolver(ANSWERS)
    const error = await post(guardedLookup({ allowPrivate: false, resolver })).then(
      () => null,
      (reason: unknown) => reason as NodeJS.ErrnoException,
    )
    expect(error?.code).toBe('WEBHOOK_TARGET_FORBIDDEN')
    expect(calls.map((call) => call.hostname)).toEqual(['rebind.example'])
    expect(connections).toBe(0)
  })

  it('node:http reaches the server when allowPrivate is set', async () => {
    const { resolver } = fakeResolver(ANSWERS)
    expect(await post(guardedLookup({ allowPrivate: true, resolver }))).toBe(204)
    expect(connections).toBe(1)
  })

  it.each([true, false])('guards net.connect with autoSelectFamily %s (all and single lookup forms)', async (autoSelectFamily) => {
    const { resolver, calls } = fakeResolver(ANSWERS)
    await expect(open(guardedLookup({ allowPrivate: false, resolver }), autoSelectFamily)).rejects.toMatchObject({
      code: 'WEBHOOK_TARGET_FORBIDDEN',
    })
    expect(calls[0]?.options.all ?? false).toBe(autoSelectFamily)
    await open(guardedLookup({ allowPrivate: true, resolver }), autoSelectFamily)
    await new Promise((resolve) => setImmediate(resolve))
    expect(connections).toBe(1)
  })
})
