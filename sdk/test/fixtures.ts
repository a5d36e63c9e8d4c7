import { TOKEN_LINE, freshDataDir, startServer, tokenFor } from '../../test/helpers/processes.ts'
import type { Server, StartOptions } from '../../test/helpers/processes.ts'
import { Travobooks } from '../src/index.ts'
import type { Customer, Listing, TravobooksOptions } from '../src/index.ts'

/**
 * A real server process for the SDK's tests (PGlite in a fresh directory, or the test PostgreSQL),
 * with a token and a client on it. Its workers are off unless asked for: on a shared PostgreSQL an
 * in-process dispatcher would deliver other test files' webhooks.
 */
export interface SdkServer {
  server: Server
  token: string
  tvb: Travobooks
  teamId: string
  client(options?: TravobooksOptions): Travobooks
}

export async function sdkServer(options: StartOptions = {}): Promise<SdkServer> {
  const server = await startServer(freshDataDir(), { ...options, env: { RUN_WORKERS: 'false', ...options.env } })
  // an embedded server has its own database even when the suite runs on PostgreSQL: its banner's token
  const token = options.embedded ? TOKEN_LINE.exec(server.output())![1]! : await tokenFor(server)
  const client = (more: TravobooksOptions = {}) => new Travobooks({ token, baseUrl: server.base, ...more })
  const tvb = client()
  const me = await tvb.me()
  const teamId = me.teams[0]!.id
  return { server, token, tvb, teamId, client }
}

/** A stay `offset` days after a base some months ahead, clear of the demo data's bookings. */
const BASE = Date.now() + 200 * 86_400_000
export const stayDay = (offset: number) => new Date(BASE + offset * 86_400_000).toISOString().slice(0, 10)

export function newListing(tvb: Travobooks, teamId: string, name = 'SDK Test Villa'): Promise<Listing> {
  return tvb.listings.create({
    team_id: teamId,
    name,
    address: { country_code: 'VN', province_code: 'SG', city: 'Ho Chi Minh City', line1: '1 Le Loi' },
    max_guests: 4,
    bedrooms: 2,
    nightly_rate: { amount: '1500000', currency: 'VND' },
    timezone: 'Asia/Ho_Chi_Minh',
  })
}

export function newCustomer(tvb: Travobooks, teamId: string): Promise<Customer> {
  return tvb.customers.create({ team_id: teamId, name: 'An Nguyen', email: 'an@example.com', phone: '+84901234567', language: 'vi', country_code: 'VN' })
}
