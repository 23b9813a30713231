import type { z } from 'zod'

const secretPath = /secret|password|token|key/i

/** Plain-language reason for one zod issue; never echoes a value found under a secret-looking key. */
export function describeIssue(issue: z.core.$ZodIssue, input: unknown = issue.input): string {
  const path = issue.path.map(String).join('.')
  // Only plain values are echoed: a whole object says nothing a reader cannot see in the file.
  const echo = ['string', 'number', 'boolean'].includes(typeof input) && !secretPath.test(path)
  const got = echo ? `; got ${show(input)}` : ''
  switch (issue.code) {
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => String(v)).join(', ')}${got}`
    case 'invalid_type':
      return input === undefined ? `required (${issue.expected})` : `expected ${issue.expected}${got}`
    case 'unrecognized_keys':
      return 'unknown key'
    default:
      return `${issue.message.replace(/^Invalid input: /, '')}${got}`
  }
}

type LocatedIssue = { path: PropertyKey[]; issue: z.core.$ZodIssue }

/** Issues with their paths; an unknown key becomes one issue at that key's own path. */
export function flattenIssues(issues: readonly z.core.$ZodIssue[]): LocatedIssue[] {
  return issues.flatMap((issue): LocatedIssue[] =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: [...issue.path, key], issue }))
      : [{ path: [...issue.path], issue }],
  )
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}
