import { stringify } from 'csv-stringify/sync'
import type { Options } from 'csv-stringify/sync'

/**
 * CSV as RFC 4180 has it (fields with a comma, quote, CR or LF quoted, quotes doubled, CRLF between
 * records), and safe to open in a spreadsheet: a text cell that starts with =, +, -, @, a tab or a
 * carriage return (or their full-width forms) gets a leading ' so it is never run as a formula
 * (OWASP "CSV injection"). csv-stringify does both; it is called per cell of text a partner
 * controls (names), once per team or listing, not per row: numbers, dates and codes need neither.
 */
const OPTIONS: Options = {
  eof: false,
  record_delimiter: '\r\n',
  // with a record_delimiter of its own, csv-stringify would otherwise leave a lone CR or LF unquoted
  quote_record_delimiter: true,
  escape_formulas: true,
}

/** One text cell, quoted and escaped as needed. */
export function csvText(value: string): string {
  return value === '' ? '' : stringify([[value]], OPTIONS)
}

/** One record of text cells, without its line end. */
export function csvRecord(values: readonly string[]): string {
  return stringify([values], OPTIONS)
}

/** Cells this API generates (counts, rates, amounts, dates, currency codes) need no quoting or escaping. */
const PLAIN = /^(?:[0-9A-Za-z._/][0-9A-Za-z._/-]*)?$/

/** A cell of a value the API generated: as it is when plainly safe, through csvText otherwise. */
export function csvValue(value: number | string): string {
  if (typeof value === 'number') return String(value)
  return PLAIN.test(value) ? value : csvText(value)
}

export const CSV_LINE_END = '\r\n'
