/** A stream entry's [field, value, …] as a record by field name. */
export function entryFields(pairs: string[]): Record<string, string> {
  const fields: Record<string, string> = {}
  for (let i = 0; i + 1 < pairs.length; i += 2) fields[pairs[i] ?? ''] = pairs[i + 1] ?? ''
  return fields
}
