/**
 * Money (API.md §3): {"amount": "3000.00", "currency": "USD"} on the wire, a decimal string in the
 * currency's minor-unit exponent; integer minor units in storage and arithmetic.
 */
export interface Money {
  amount: string
  currency: string
}

const CURRENCIES = new Set(Intl.supportedValuesOf('currency'))
const exponents = new Map<string, number>()

export function isCurrency(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && CURRENCIES.has(code)
}

/** ISO 4217 minor-unit exponent: VND 0, USD 2, BHD 3 (from ICU's currency data). */
export function minorUnitExponent(currency: string): number {
  let exponent = exponents.get(currency)
  if (exponent === undefined) {
    exponent = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2
    exponents.set(currency, exponent)
  }
  return exponent
}

export function formatMinor(minor: number, currency: string): Money {
  const exponent = minorUnitExponent(currency)
  const negative = minor < 0
  const digits = String(Math.abs(minor)).padStart(exponent + 1, '0')
  const amount = exponent === 0 ? digits : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`
  return { amount: negative ? `-${amount}` : amount, currency }
}

/**
 * Parses a non-negative amount string into minor units; null when it is not a plain decimal or
 * has more decimals than the currency allows ("12.505" EUR, "10.5" VND).
 */
export function parseAmount(amount: string, currency: string): number | null {
  const match = /^(0|[1-9][0-9]{0,14})(?:\.([0-9]+))?$/.exec(amount)
  if (!match) return null
  const exponent = minorUnitExponent(currency)
  const fraction = match[2] ?? ''
  if (fraction.length > exponent) return null
  const minor = Number(match[1]) * 10 ** exponent + Number(fraction.padEnd(exponent, '0') || '0')
  return Number.isSafeInteger(minor) ? minor : null
}
