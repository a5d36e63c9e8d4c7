import { FieldErrors } from './errors.ts'

/**
 * Read-only fields in a replacing PUT (id, team_id, mode, timestamps …): a client that GETs a
 * resource, changes one field and PUTs the body back must succeed, so they are accepted when equal
 * to the stored values; any other value is a 400 naming the field, never silently ignored.
 * Timestamps compare as instants (…Z and …+00:00 are the same time).
 */
export function checkReadOnlyFields(current: Record<string, unknown>, input: Record<string, unknown>, names: readonly string[]): void {
  const errors = new FieldErrors()
  for (const name of names) {
    if (!(name in input)) continue
    const sent = input[name]
    const stored = current[name]
    if (!sameValue(sent, stored, name.endsWith('_at'))) {
      errors.add(name, 'read_only', `is read-only: send it unchanged (${JSON.stringify(stored)}) or leave it out`)
    }
  }
  errors.throwIfAny()
}

function sameValue(sent: unknown, stored: unknown, instant: boolean): boolean {
  if (instant && typeof sent === 'string' && typeof stored === 'string') {
    const a = Date.parse(sent)
    return !Number.isNaN(a) && a === Date.parse(stored)
  }
  return JSON.stringify(sent) === JSON.stringify(stored)
}
