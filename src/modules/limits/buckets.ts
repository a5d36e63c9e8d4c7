/**
 * Rate-limit buckets (API.md §8): per partner × mode × endpoint class, per minute. Every route
 * names exactly one bucket in its config; GET /v1/me lists them.
 */
export const BUCKETS = ['search', 'booking_create', 'ticket_issue', 'read', 'write'] as const
export type Bucket = (typeof BUCKETS)[number]

export const DEFAULT_LIMITS_PER_MINUTE: Record<Bucket, number> = {
  search: 600,
  booking_create: 60,
  ticket_issue: 30,
  read: 1200,
  write: 300,
}
