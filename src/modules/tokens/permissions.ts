/**
 * Roles and permissions (API.md §5). Effective permissions = role permissions ∩ token scopes.
 * GET /v1/me and GET /v1/teams need no permission: every token may read its own context.
 * booking.create.partner covers a booking's whole partner-side life (hold, confirm, change,
 * cancel); issuing the voucher (booking.issue) is separate.
 */
export const PERMISSIONS = [
  'listing.read',
  'listing.write',
  'availability.search',
  'customer.read',
  'customer.write',
  'booking.read',
  'booking.create.partner',
  'booking.issue',
  'invoice.read',
  'invoice.write',
  'payment.read',
  'payment.write',
  'report.read',
  'webhook.read',
  'webhook.write',
  'event.read',
  'token.read',
  'token.manage',
] as const

export type Permission = (typeof PERMISSIONS)[number]

export const ROLES = ['OWNER', 'ADMIN', 'TRAVEL_AGENT', 'ACCOUNTANT', 'VIEWER'] as const
export type Role = (typeof ROLES)[number]

const READS = PERMISSIONS.filter((p) => p.endsWith('.read'))

export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  OWNER: PERMISSIONS,
  ADMIN: PERMISSIONS,
  TRAVEL_AGENT: ['listing.read', 'availability.search', 'customer.read', 'customer.write', 'booking.read', 'booking.create.partner'],
  ACCOUNTANT: ['booking.read', 'invoice.read', 'invoice.write', 'payment.read', 'payment.write', 'report.read'],
  VIEWER: READS,
}

export function isPermission(value: string): value is Permission {
  return (PERMISSIONS as readonly string[]).includes(value)
}

export function effectivePermissions(role: Role, scopes: readonly string[] | null): Permission[] {
  const granted = ROLE_PERMISSIONS[role]
  return scopes === null ? [...granted] : granted.filter((p) => scopes.includes(p))
}
