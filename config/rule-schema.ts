import { z } from 'zod'
import { deviceKindSchema } from '../domain/index.ts'
import { durationSchema } from './duration.ts'
import { idSchema, severitySchema } from './value-schemas.ts'

const matchSchema = z.strictObject({
  kind: deviceKindSchema.optional(),
  site: idSchema.optional(),
  zone: idSchema.optional(),
  device: idSchema.optional(),
})

const conditionInputSchema = z.strictObject({
  field: z.string().min(1).optional(),
  above: z.number().optional(),
  clearBelow: z.number().optional(),
  below: z.number().optional(),
  clearAbove: z.number().optional(),
  equals: z.union([z.boolean(), z.number(), z.string()]).optional(),
  unauthorised: z.literal(true).optional(),
  silentFor: durationSchema.optional(),
})

type ConditionInput = z.infer<typeof conditionInputSchema>

/** A rule's condition, normalised to one kind each so evaluation never guesses. */
export type Condition =
  | { kind: 'above'; field: string; above: number; clearBelow: number }
  | { kind: 'below'; field: string; below: number; clearAbove: number }
  | { kind: 'equals'; field: string; equals: boolean | number | string }
  | { kind: 'unauthorised' }
  | { kind: 'silent'; silentFor: number }

const conditionKeys = ['above', 'below', 'equals', 'unauthorised', 'silentFor'] as const
const keysOnlyWith: Record<string, (typeof conditionKeys)[number]> = {
  clearBelow: 'above',
  clearAbove: 'below',
}

const conditionSchema = conditionInputSchema.transform((input, ctx): Condition => {
  const present = conditionKeys.filter((key) => input[key] !== undefined)
  const fail = (message: string, path: string[] = []) => {
    ctx.addIssue({ code: 'custom', message, path })
    return z.NEVER
  }
  if (present.length !== 1) {
    return fail(`needs exactly one of ${conditionKeys.join(', ')}; found ${present.join(', ') || 'none'}`)
  }
  const [kind] = present as [(typeof conditionKeys)[number]]
  for (const [key, owner] of Object.entries(keysOnlyWith)) {
    if (input[key as keyof ConditionInput] !== undefined && owner !== kind) {
      return fail(`${key} goes only with ${owner}`, [key])
    }
  }
  const needsField = kind === 'above' || kind === 'below' || kind === 'equals'
  if (needsField && input.field === undefined) return fail(`${kind} needs a field to test`, ['field'])
  if (!needsField && input.field !== undefined) return fail(`field does not go with ${kind}`, ['field'])
  const field = input.field ?? ''
  switch (kind) {
    case 'above': {
      const above = input.above ?? 0
      const clearBelow = input.clearBelow ?? above
      if (clearBelow > above) return fail('clearBelow must not be above the threshold', ['clearBelow'])
      return { kind, field, above, clearBelow }
    }
    case 'below': {
      const below = input.below ?? 0
      const clearAbove = input.clearAbove ?? below
      if (clearAbove < below) return fail('clearAbove must not be below the threshold', ['clearAbove'])
      return { kind, field, below, clearAbove }
    }
    case 'equals':
      return { kind, field, equals: input.equals ?? false }
    case 'unauthorised':
      return { kind }
    case 'silentFor':
      return { kind: 'silent', silentFor: input.silentFor ?? 0 }
  }
})

const groupSchema = z.strictObject({
  by: z.enum(['zone', 'site']),
  atLeast: z.number().int().min(2),
  within: durationSchema,
})

export const ruleSchema = z.strictObject({
  id: idSchema,
  name: z.string().min(1).max(120).optional(),
  match: matchSchema.default({}),
  condition: conditionSchema,
  for: durationSchema.optional(),
  group: groupSchema.optional(),
  severity: severitySchema,
  skill: z.string().min(1).optional(),
  notifyCustomers: z.boolean().default(false),
  voice: z.boolean().default(false),
})

export type Rule = z.infer<typeof ruleSchema>
export type RuleInput = z.input<typeof ruleSchema>
