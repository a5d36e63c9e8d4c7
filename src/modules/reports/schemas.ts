import Type from 'typebox'
import type { TSchema } from 'typebox'
import { MoneySchema } from '../../http/money-schema.ts'
import { stringEnum } from '../../http/schemas.ts'

export const REPORT_TYPES = ['bookings-summary', 'revenue', 'occupancy'] as const
export type ReportType = (typeof REPORT_TYPES)[number]

export const TIME_DIMENSIONS = ['day', 'week', 'month'] as const
export const ENTITY_DIMENSIONS = ['team', 'listing'] as const
export const GROUP_BY_VALUES = [...TIME_DIMENSIONS, ...ENTITY_DIMENSIONS] as const
export type TimeDimension = (typeof TIME_DIMENSIONS)[number]
export type EntityDimension = (typeof ENTITY_DIMENSIONS)[number]
export type GroupByValue = (typeof GROUP_BY_VALUES)[number]

/** A report's range is at most this many days, both ends included. */
export const MAX_REPORT_DAYS = 366

/** The figures of each report, in column order, after the period and entity columns. */
export const FIGURE_COLUMNS = {
  'bookings-summary': ['bookings', 'held', 'confirmed', 'issued', 'cancelled', 'expired', 'nights'],
  revenue: ['currency', 'bookings', 'nights', 'revenue'],
  occupancy: ['listings', 'available_nights', 'occupied_nights', 'occupancy_rate'],
} as const satisfies Record<ReportType, readonly string[]>

export const ENTITY_COLUMNS = { team: ['team_id', 'team_name'], listing: ['listing_id', 'listing_name'] } as const satisfies Record<EntityDimension, readonly string[]>

export const PERIOD_COLUMNS = ['period', 'period_start', 'period_end'] as const

/** The columns of a report's rows (and its CSV header), in order. */
export function columnsOf(type: ReportType, entity: EntityDimension | null): string[] {
  return [...PERIOD_COLUMNS, ...(entity ? ENTITY_COLUMNS[entity] : []), ...FIGURE_COLUMNS[type]]
}

const Period = {
  period: Type.String({ description: 'The period: 2026-05-07 (day), 2026-W19 (ISO week), 2026-05 (month), or "<from>/<to>" when no period is grouped by.' }),
  period_start: Type.String({ format: 'date', description: 'Its first day within the range, YYYY-MM-DD.' }),
  period_end: Type.String({ format: 'date', description: 'Its last day within the range, YYYY-MM-DD.' }),
}
const TeamColumns = {
  team_id: Type.Optional(Type.String({ description: 'With group_by team.' })),
  team_name: Type.Optional(Type.String({ description: 'With group_by team.' })),
}
const ListingColumns = {
  listing_id: Type.Optional(Type.String({ description: 'With group_by listing.' })),
  listing_name: Type.Optional(Type.String({ description: 'With group_by listing.' })),
}
const Count = (description: string) => Type.Integer({ minimum: 0, description })

function rowSchema(title: string, figures: Record<string, TSchema>) {
  return Type.Object({ ...Period, ...TeamColumns, ...ListingColumns, ...figures }, { title, additionalProperties: false })
}

export const BookingsSummaryRow = rowSchema('BookingsSummaryRow', {
  bookings: Count('Bookings created in the period (by created_at, UTC).'),
  held: Count('Of those, HELD now (hold not yet lapsed).'),
  confirmed: Count('Of those, CONFIRMED now.'),
  issued: Count('Of those, ISSUED now.'),
  cancelled: Count('Of those, CANCELLED now.'),
  expired: Count('Of those, EXPIRED now (a lapsed hold counts as EXPIRED).'),
  nights: Count('Nights of those now CONFIRMED or ISSUED.'),
})

export const RevenueRow = rowSchema('RevenueRow', {
  currency: Type.String({ description: 'ISO 4217: one row per currency, never summed across currencies.' }),
  bookings: Count('CONFIRMED or ISSUED bookings checking in during the period.'),
  nights: Count('Their nights.'),
  revenue: MoneySchema,
})

export const OccupancyRow = rowSchema('OccupancyRow', {
  listings: Count('Listings in scope (whatever their state).'),
  available_nights: Count('listings × nights of the period.'),
  occupied_nights: Count('Nights of CONFIRMED or ISSUED bookings within the period.'),
  occupancy_rate: Type.String({ pattern: '^[0-9]+\\.[0-9]{4}$', description: 'occupied_nights / available_nights, rounded half up to 4 decimals; "0.0000" when nothing is available.' }),
})

export const ReportSchema = Type.Object(
  {
    report: stringEnum(REPORT_TYPES),
    from: Type.String({ format: 'date', description: 'YYYY-MM-DD, inclusive.' }),
    to: Type.String({ format: 'date', description: 'YYYY-MM-DD, inclusive.' }),
    group_by: Type.Array(stringEnum(GROUP_BY_VALUES), { description: 'As asked (default ["day"]).' }),
    currency: Type.Union([Type.String(), Type.Null()], { description: 'The currency= filter of a revenue report, else null.' }),
    team_ids: Type.Array(Type.String(), { description: 'The teams the report covers: the token\'s, narrowed by team_ids=.' }),
    generated_at: Type.String({ format: 'date-time', description: 'When the figures were read (statuses are as of this time).' }),
    data: Type.Array(Type.Union([BookingsSummaryRow, RevenueRow, OccupancyRow]), { description: 'The rows; their figures depend on the report.' }),
  },
  { title: 'Report', additionalProperties: false },
)
