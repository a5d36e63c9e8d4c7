/**
 * Query strings the way the server reads them: arrays as one comma list (`status=HELD,CONFIRMED`),
 * except `team_ids`, sent as the JSON array string that every surface accepts (the External API
 * takes no other form). An empty array is a filter that is not given, and is left out, except
 * `group_by`: there an empty value means "group by nothing" (one row per currency), unlike
 * leaving it out (the report's default grouping), so `group_by: []` is sent as `group_by=`.
 */
export function serializeQuery(query: Record<string, unknown> | undefined): string {
  if (!query) return ''
  const parts: string[] = []
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue
    let text: string
    if (Array.isArray(value)) {
      if (value.length === 0 && name !== 'group_by') continue
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
