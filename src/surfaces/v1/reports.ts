import { Readable } from 'node:stream'
import { setImmediate as nextTurn } from 'node:timers/promises'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import Negotiator from 'negotiator'
import Type from 'typebox'
import { callerOf } from '../../http/auth.ts'
import { TeamIdsParam, scopeOf } from '../../http/list-query.ts'
import { calendarDate } from '../../http/schemas.ts'
import { ApiError } from '../../platform/errors.ts'
import { CSV_LINE_END, csvRecord, csvText, csvValue } from '../../modules/reports/csv.ts'
import { FIGURE_COLUMNS, GROUP_BY_VALUES, MAX_REPORT_DAYS, REPORT_TYPES, ReportSchema } from '../../modules/reports/schemas.ts'
import type { ReportType } from '../../modules/reports/schemas.ts'
import { checkReportQuery, isReportType, unknownReport } from '../../modules/reports/service.ts'
import type { Figure, OpenReport, ReportEntity, ReportPeriod, ReportRun } from '../../modules/reports/service.ts'
import type { ServicesFor } from '../../modules/services.ts'

const JSON_TYPE = 'application/json'
const CSV_TYPE = 'text/csv'
const CSV_SUFFIX = '.csv'

/** `occupancy` → the occupancy report; `occupancy.csv` → the same, in CSV. */
function reportNameOf(name: string): { type: ReportType; csv: boolean } | null {
  const csv = name.endsWith(CSV_SUFFIX)
  const type = csv ? name.slice(0, -CSV_SUFFIX.length) : name
  return isReportType(type) ? { type, csv } : null
}

/** The .csv suffix answers in CSV: an Accept header that refuses CSV is a 406 (it does not switch the answer to JSON). */
function wantsCsv(request: FastifyRequest, suffix: boolean): boolean {
  const accept = request.headers.accept
  if (suffix) {
    if (accept && !new Negotiator({ headers: { accept } }).mediaType([CSV_TYPE])) {
      throw new ApiError('NOT_ACCEPTABLE', `A .csv report answers with ${CSV_TYPE}; the Accept header does not allow it.`, { available: [CSV_TYPE] })
    }
    return true
  }
  return Boolean(accept) && new Negotiator({ headers: { accept } }).mediaType([JSON_TYPE, CSV_TYPE]) === CSV_TYPE
}

// ---- rendering: a report's pages as text, a chunk of rows at a time

/**
 * Each batch of rows the service hands over (250) is one chunk of the response (about 60 KB of
 * JSON), passed on as a string (written straight to the socket, not first copied into a Buffer),
 * at most a couple ahead of what the socket has taken: a slow reader holds the report back, not
 * the server's memory.
 */
const CHUNKS_AHEAD = 2

/** Text this API generates (codes, amounts, rates) goes out as it is; anything else is escaped. */
const PLAIN = /^[0-9A-Za-z._-]*$/

interface Renderer {
  begin(): string
  runs(runs: ReportRun[]): string
  end(): string
}

function jsonText(value: string): string {
  return PLAIN.test(value) ? `"${value}"` : JSON.stringify(value)
}

/**
 * A chunk's text, gathered as pieces and joined once into one flat string. Concatenating piece by
 * piece made a tree of strings that the socket then flattened (twice the garbage), and a new array
 * per chunk was most of the rest: one array serves every chunk of a report.
 */
class Pieces {
  readonly #parts: string[] = []
  #count = 0
  add(piece: string): void {
    this.#parts[this.#count++] = piece
  }
  join(): string {
    this.#parts.length = this.#count
    this.#count = 0
    return this.#parts.join('')
  }
}

function addJsonFigure(pieces: Pieces, value: Figure): void {
  if (typeof value === 'number') pieces.add(String(value))
  else if (PLAIN.test(value)) {
    pieces.add('"')
    pieces.add(value)
    pieces.add('"')
  } else pieces.add(JSON.stringify(value))
}

/** {"report", "from", …, "data": [rows]}: a period's and an entity's text is made once and reused. */
function jsonRenderer(report: OpenReport): Renderer {
  const columns: readonly string[] = FIGURE_COLUMNS[report.header.report]
  const names = columns.map((column) => `,"${column}":`)
  // revenue is money: its amount with the row's currency
  const money = columns.indexOf('revenue')
  const currency = columns.indexOf('currency')
  const [idKey, nameKey] = report.entity === 'team' ? ['team_id', 'team_name'] : ['listing_id', 'listing_name']
  const periods = new Map<ReportPeriod, string>()
  const pieces = new Pieces()
  let entity: ReportEntity | null = null
  let entityText = ''
  let separator = ''
  return {
    begin: () => `${JSON.stringify(report.header).slice(0, -1)},"data":[`,
    runs(runs) {
      for (const run of runs) {
        if (run.entity !== entity) {
          entity = run.entity
          entityText = entity ? `,"${idKey}":${JSON.stringify(entity.id)},"${nameKey}":${JSON.stringify(entity.name)}` : ''
        }
        for (let i = run.start; i < run.end; i++) {
          const p = run.period(i)
          let period = periods.get(p)
          if (period === undefined) {
            period = `{"period":${jsonText(p.period)},"period_start":"${p.period_start}","period_end":"${p.period_end}"`
            periods.set(p, period)
          }
          pieces.add(separator)
          pieces.add(period)
          pieces.add(entityText)
          separator = ','
          for (let k = 0; k < names.length; k++) {
            pieces.add(names[k]!)
            if (k === money) {
              pieces.add('{"amount":')
              addJsonFigure(pieces, run.figure(i, k))
              pieces.add(',"currency":')
              addJsonFigure(pieces, run.figure(i, currency))
              pieces.add('}')
            } else addJsonFigure(pieces, run.figure(i, k))
          }
          pieces.add('}')
        }
      }
      return pieces.join()
    },
    end: () => ']}',
  }
}

/** A header row, then a CRLF-terminated record per row; names are quoted and made formula-safe once per entity. */
function csvRenderer(report: OpenReport): Renderer {
  const figures = FIGURE_COLUMNS[report.header.report].length
  const periods = new Map<ReportPeriod, string>()
  const pieces = new Pieces()
  let entity: ReportEntity | null = null
  let entityText = ''
  return {
    begin: () => csvRecord(report.columns) + CSV_LINE_END,
    runs(runs) {
      for (const run of runs) {
        if (run.entity !== entity) {
          entity = run.entity
          entityText = entity ? `,${csvText(entity.id)},${csvText(entity.name)}` : ''
        }
        for (let i = run.start; i < run.end; i++) {
          const p = run.period(i)
          let period = periods.get(p)
          if (period === undefined) {
            period = csvRecord([p.period, p.period_start, p.period_end])
            periods.set(p, period)
          }
          pieces.add(period)
          pieces.add(entityText)
          for (let k = 0; k < figures; k++) {
            pieces.add(',')
            pieces.add(csvValue(run.figure(i, k)))
          }
          pieces.add(CSV_LINE_END)
        }
      }
      return pieces.join()
    },
    end: () => '',
  }
}

/** The report's text, chunk by chunk, as its pages are read. */
export async function* renderReport(report: OpenReport, format: 'json' | 'csv'): AsyncGenerator<string> {
  const renderer = format === 'csv' ? csvRenderer(report) : jsonRenderer(report)
  yield renderer.begin()
  for await (const runs of report.pages) {
    if (runs.length === 0) continue
    yield renderer.runs(runs)
    // a turn of the event loop between chunks: other requests are served meanwhile, and the
    // database's answer for the next page is taken in as soon as it arrives (its query goes out
    // as the current page is sent, and the next one needs the answer to the one before)
    await nextTurn()
  }
  const end = renderer.end()
  if (end) yield end
}

/** Streams a body as it is produced (the route's response schema documents it; no serializer runs). */
function sendStream(reply: FastifyReply, contentType: string, body: AsyncIterable<string>): FastifyReply {
  return reply.header('vary', 'Accept').type(contentType).send(Readable.from(body, { objectMode: true, highWaterMark: CHUNKS_AHEAD }))
}

const DESCRIPTION = `Figures over the bookings and listings of the token's teams (narrowed by \`team_ids\`) and mode, for a range of calendar days: \`from\` and \`to\` both included, at most ${MAX_REPORT_DAYS} days.

**Reports**
- \`bookings-summary\`: bookings **created** in the range (the UTC date of \`created_at\`), counted by the status a reader sees now (a HELD booking whose hold has lapsed counts as EXPIRED, as everywhere in the API). Columns: \`bookings\`, \`held\`, \`confirmed\`, \`issued\`, \`cancelled\`, \`expired\`, and \`nights\` (of those now CONFIRMED or ISSUED). No money.
- \`revenue\`: CONFIRMED and ISSUED bookings whose **check_in** falls in the range; a booking's total is recognised on its check-in date. Amounts are never summed across currencies: one row per group and currency (ordered by currency within the group); \`currency=\` keeps only that one. Columns: \`currency\`, \`bookings\`, \`nights\`, \`revenue\` (money \`{"amount": "1234.50", "currency": "USD"}\` in JSON; in CSV the decimal amount, beside the \`currency\` column). Sums are exact.
- \`occupancy\`: occupied nights are the nights (a date d with check_in ≤ d < check_out) of CONFIRMED and ISSUED bookings that fall in the period; available nights are the listings in scope (whatever their state) × the days of the period. Columns: \`listings\`, \`available_nights\`, \`occupied_nights\`, \`occupancy_rate\` (occupied ÷ available as a decimal string, rounded half up to 4 decimals: \`"0.4521"\`; \`"0.0000"\` when nothing is available).

Stay dates (check_in, nights) are the listing's own calendar dates: no time zone applies to them.

**group_by** (comma-separated or repeated; default \`day\`): at most one period — \`day\` (the calendar date), \`week\` (ISO week, Monday to Sunday: \`2026-W19\`), \`month\` (\`2026-05\`) — and at most one entity — \`team\` (adds \`team_id\`, \`team_name\`) or \`listing\` (adds \`listing_id\`, \`listing_name\`): \`group_by=listing,day\`. Without a period the whole range is one period, \`period\` = \`"<from>/<to>"\`; an empty \`group_by=\` groups by nothing (one row, or one per currency). Every row has \`period\`, \`period_start\` and \`period_end\` (its first and last day, clipped to the range), then its entity, then its figures.

Rows are ordered by entity id, then period, then currency. \`bookings-summary\` and \`revenue\` have a row for each group that has bookings; \`occupancy\` has a row for every period of every listing (or team) in scope, booked or not — \`group_by=listing,day\` over a year is 366 rows per listing.

**Formats.** JSON by default: \`{"report", "from", "to", "group_by", "currency", "team_ids", "generated_at", "data": [rows]}\`. CSV with \`Accept: text/csv\` or the \`.csv\` suffix (\`/v1/reports/occupancy.csv\`): \`text/csv; charset=utf-8\`, an attachment named \`<type>-<from>-<to>.csv\`, a header row of the column names, RFC 4180 quoting, CRLF line ends; a text cell (a team or listing name) that starts with \`=\`, \`+\`, \`-\`, \`@\`, a tab or a carriage return gets a leading \`'\`, so that a spreadsheet never runs it as a formula. Both are streamed as the rows are read.

**Errors.** Every problem with the query is reported at once (400, \`details.fields\`) before anything is sent: dates that are not YYYY-MM-DD, \`to\` before \`from\` or more than ${MAX_REPORT_DAYS} days on, an unknown \`group_by\` or two periods or two entities, \`currency\` on a report other than revenue or not ISO 4217. An unknown report is a 404 whose \`details.available_types\` lists the reports.`

export const reportRoutes: FastifyPluginAsyncTypebox<{ svc: ServicesFor }> = async (app, { svc }) => {
  app.get(
    '/v1/reports/:type',
    {
      config: {
        permission: 'report.read',
        bucket: 'read',
        produces: [JSON_TYPE, CSV_TYPE],
        fieldChecks: (request, errors) => {
          const name = reportNameOf((request.params as { type?: string }).type ?? '')
          if (name) checkReportQuery(errors, name.type, request.query)
        },
      },
      // after the token, rate limit, Accept and permission (the app's onRequest): an unknown report
      // is a 404 whatever its query says, and a .csv that Accept refuses a 406
      onRequest: async (request) => {
        const raw = (request.params as { type?: string }).type ?? ''
        const name = reportNameOf(raw)
        if (!name) throw unknownReport(raw)
        wantsCsv(request, name.csv)
      },
      schema: {
        operationId: 'getReport',
        summary: 'Get a report: bookings summary, revenue or occupancy',
        description: DESCRIPTION,
        tags: ['Reports'],
        params: Type.Object({
          type: Type.Unsafe<string>({
            type: 'string',
            enum: [...REPORT_TYPES, ...REPORT_TYPES.map((t) => `${t}${CSV_SUFFIX}`)],
            description: `The report: ${REPORT_TYPES.join(', ')}; with the .csv suffix, in CSV.`,
          }),
        }),
        querystring: Type.Object(
          {
            from: calendarDate('First day, YYYY-MM-DD (included).'),
            to: calendarDate(`Last day, YYYY-MM-DD (included); on or after from, at most ${MAX_REPORT_DAYS} days in all.`),
            group_by: Type.Optional(
              Type.Array(Type.String({ maxLength: 100 }), {
                maxItems: 10,
                description: `Comma-separated or repeated; any of ${GROUP_BY_VALUES.join(', ')}: at most one of day, week, month and at most one of team, listing. Default day; empty (group_by=) groups by nothing.`,
                // the document's enum; the service checks the values (and their combination) itself
                'x-openapi': { items: { type: 'string', enum: [...GROUP_BY_VALUES] } },
              }),
            ),
            currency: Type.Optional(Type.String({ minLength: 1, maxLength: 10, description: 'revenue only: keep only this ISO 4217 currency.', examples: ['USD'] })),
            team_ids: TeamIdsParam,
          },
          { additionalProperties: false },
        ),
        response: {
          200: {
            description: 'The report, streamed: JSON by default, CSV with Accept: text/csv or the .csv suffix.',
            content: {
              [JSON_TYPE]: { schema: ReportSchema },
              [CSV_TYPE]: { schema: { type: 'string', description: 'A header row of the column names, then one CRLF-terminated record per row (RFC 4180).' } },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const name = reportNameOf(request.params.type)!
      const csv = wantsCsv(request, name.csv)
      const reports = svc(request).reports
      const asked = reports.request(name.type, request.query)
      const report = await reports.open(scopeOf(callerOf(request), request.query.team_ids), asked)
      if (csv) {
        reply.header('content-disposition', `attachment; filename="${asked.type}-${asked.from}-${asked.to}.csv"`)
        return sendStream(reply, `${CSV_TYPE}; charset=utf-8`, renderReport(report, 'csv'))
      }
      return sendStream(reply, `${JSON_TYPE}; charset=utf-8`, renderReport(report, 'json'))
    },
  )
}
