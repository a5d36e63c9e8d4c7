/**
 * Query strings the way the server reads them: arrays as one comma list (`status=HELD,CONFIRMED`),
 * except `team_ids`, sent as the JSON array string that every surface accepts (the External API
 * takes no other form).
 */
export function serializeQuery(query: Record<string, unknown> | undefined): string {
  if (!query) return ''
  const parts: string[] = []
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue
    let text: string
    if (Array.isArray(value)) {
      if (value.length === 0) continue
      text = name === 'team_ids' ? JSON.stringify(value.map(String)) : value.map(String).join(',')
    } else if (value instanceof Date) {
      text = value.toISOString()
    } else if (typeof value === 'object') {
      text = JSON.stringify(value)
    } else {
      text = String(value as string | number | boolean)
    }
    parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(text)}`)
  }
  return parts.join('&')
}
