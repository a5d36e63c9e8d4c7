import type { Scope } from '../../platform/keyset.ts'
import type { Clock } from '../../platform/clock.ts'
import { nowIn } from '../test-clock/now.ts'
import type { Db } from '../../platform/db.ts'
import { ApiError, FieldErrors, notFound, textField } from '../../platform/errors.ts'
import { newId } from '../../platform/ids.ts'
import { canonicalLanguage, isCountryCode, isE164Phone } from '../../platform/reference-data.ts'
import { recordEvent } from '../events/repository.ts'
import type { CursorCodec } from '../../platform/cursor.ts'
import { planList, teamForCreate, toPage } from '../../platform/pagination.ts'
import type { ListSpec, Page } from '../../platform/pagination.ts'
import * as repo from './repository.ts'
import type { CustomerRow, CustomerValues } from './repository.ts'
import { CustomerSchema } from './schemas.ts'
import type { CreateCustomerInput, ReplaceCustomerInput } from './schemas.ts'

/** A customer as the domain knows it: version-neutral and JSON-safe (the snapshot its events keep); surfaces present it. */
export interface Customer {
  id: string
  team_id: string
  mode: 'live' | 'test'
  name: string
  email: string | null
  phone: string | null
  language: string | null
  country_code: string | null
  created_at: string
  updated_at: string
}

export function customerOf(row: CustomerRow): Customer {
  return {
    id: row.id,
    team_id: row.team_id,
    mode: row.mode,
    name: row.name,
    email: row.email,
    phone: row.phone,
    language: row.language,
    country_code: row.country_code,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  }
}

/** Phone, language and country of a customer body (raw input: also run when the schema refused it). Returns the canonical language. */
export function checkCustomerCodes(body: unknown, errors: FieldErrors): string | null {
  const phone = textField(body, 'phone')
  if (phone && !isE164Phone(phone)) errors.add('phone', 'e164', 'is not a valid E.164 phone number (+84901234567)')
  let language: string | null = null
  const tag = textField(body, 'language')
  if (tag) {
    language = canonicalLanguage(tag)
    if (!language) errors.add('language', 'bcp47', 'is not a BCP 47 language tag (vi, en-US)')
  }
  const country = textField(body, 'country_code')
  if (country && !isCountryCode(country)) errors.add('country_code', 'iso3166_1', 'is not an ISO 3166-1 alpha-2 country code')
  return language
}

function validatedValues(input: CreateCustomerInput, errors: FieldErrors): CustomerValues {
  const language = checkCustomerCodes(input, errors)
  return { name: input.name, email: input.email ?? null, phone: input.phone ?? null, language, country_code: input.country_code ?? null }
}

export const customerSpec: ListSpec = {
  resource: 'customers',
  sortKeys: { created_at: { column: 'c.created_at', type: 'timestamptz' }, updated_at: { column: 'c.updated_at', type: 'timestamptz' } },
  defaultSort: '-created_at',
  fields: Object.keys(CustomerSchema.properties),
}

export interface CustomerListQuery {
  limit?: number
  cursor?: string
  sort?: string
  fields?: string
  email?: string
  q?: string
}

export class CustomerService {
  readonly #db: Db
  readonly #clock: Clock
  readonly #codec: CursorCodec | undefined
  /** cursors: needed by lists only (the demo seed never pages). */
  constructor(deps: { db: Db; clock: Clock; cursors?: CursorCodec }) {
    this.#db = deps.db
    this.#clock = deps.clock
    this.#codec = deps.cursors
  }

  async list(scope: Scope, query: CustomerListQuery): Promise<{ page: Page<Customer>; fields: string[] | null }> {
    if (!this.#codec) throw new Error('CustomerService was built without a cursor codec; lists need one')
    const filters = { email: query.email, q: query.q }
    const plan = planList(customerSpec, query, scope, filters, this.#codec)
    return { page: toPage(await repo.listCustomers(this.#db, scope, filters, plan), plan, this.#codec, customerOf), fields: plan.fields }
  }

  async create(scope: Scope, input: CreateCustomerInput): Promise<Customer> {
    const errors = new FieldErrors()
    const teamId = teamForCreate(scope, input.team_id, errors)
    const values = validatedValues(input, errors)
    errors.throwIfAny()
    const now = nowIn(this.#clock, scope)
    return this.#db.transaction(async (tx) => {
      const row = await repo.insertCustomer(tx, { id: newId('customer'), partnerId: scope.partnerId, teamId, mode: scope.mode, now, ...values })
      const customer = customerOf(row)
      await recordEvent(tx, { partnerId: scope.partnerId, teamId, mode: scope.mode, type: 'customer.created', resourceType: 'customer', resourceId: row.id, sequence: row.version, data: customer, now })
      return customer
    })
  }

  async get(scope: Scope, id: string): Promise<Customer> {
    const row = await repo.findCustomer(this.#db, scope, id)
    if (!row) throw notFound('customer')
    return customerOf(row)
  }

  async replace(scope: Scope, id: string, input: ReplaceCustomerInput, checkPrecondition: (current: Customer) => void): Promise<Customer> {
    const errors = new FieldErrors()
    const values = validatedValues(input, errors)
    errors.throwIfAny()
    const now = nowIn(this.#clock, scope)
    return this.#db.transaction(async (tx) => {
      const current = await repo.findCustomer(tx, scope, id, true)
      if (!current) throw notFound('customer')
      checkPrecondition(customerOf(current))
      const row = await repo.updateCustomer(tx, scope, id, values, now)
      const customer = customerOf(row)
      await recordEvent(tx, { partnerId: scope.partnerId, teamId: row.team_id, mode: scope.mode, type: 'customer.updated', resourceType: 'customer', resourceId: id, sequence: row.version, data: customer, now })
      return customer
    })
  }

  /** Deletes a customer without live bookings; past bookings keep their customer_id. */
  async delete(scope: Scope, id: string): Promise<void> {
    const now = nowIn(this.#clock, scope)
    await this.#db.transaction(async (tx) => {
      const current = await repo.findCustomer(tx, scope, id, true)
      if (!current) throw notFound('customer')
      const live = await repo.countLiveBookings(tx, id, now)
      if (live > 0) throw new ApiError('CUSTOMER_HAS_LIVE_BOOKINGS', `The customer has ${live} live booking${live === 1 ? '' : 's'}; cancel ${live === 1 ? 'it' : 'them'} first.`, { live_bookings: live })
      const row = await repo.softDeleteCustomer(tx, scope, id, now)
      await recordEvent(tx, { partnerId: scope.partnerId, teamId: row.team_id, mode: scope.mode, type: 'customer.deleted', resourceType: 'customer', resourceId: id, sequence: row.version, data: customerOf(row), now })
    })
  }
}
