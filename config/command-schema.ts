import { z } from 'zod'
import { deviceKindSchema } from '../domain/index.ts'

// A command name is one MQTT topic level of devices/<id>/commands/<name> (issue 19): no "/", "+" or "#".
export const commandNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,31}$/, 'a command name is 1 to 32 lower-case letters, digits, "_" or "-"')

const bounds = {
  min: z.number().optional(),
  max: z.number().optional(),
  optional: z.boolean().default(false),
}
const inOrder = (spec: { min?: number | undefined; max?: number | undefined }) =>
  spec.min === undefined || spec.max === undefined || spec.min <= spec.max

/** One argument of a command, as the site file declares it. */
export const commandArgSpecSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('integer'), ...bounds }).refine(inOrder, 'min is above max'),
  z.strictObject({ type: z.literal('number'), ...bounds }).refine(inOrder, 'min is above max'),
  z.strictObject({ type: z.literal('boolean'), optional: bounds.optional }),
  z.strictObject({
    type: z.literal('string'),
    maxLength: z.number().int().min(1).max(1024),
    optional: bounds.optional,
  }),
  z.strictObject({
    type: z.literal('enum'),
    values: z.array(z.string().min(1).max(64)).min(1).max(64),
    optional: bounds.optional,
  }),
])
export type CommandArgSpec = z.infer<typeof commandArgSpecSchema>

export const commandSpecSchema = z.strictObject({
  args: z
    .record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,31}$/, 'an argument name'), commandArgSpecSchema)
    .default({}),
})
export type CommandSpec = z.infer<typeof commandSpecSchema>

/** The site file's `commands:` (issue 19): per device kind, the commands its devices take. */
export const commandCatalogueSchema = z.partialRecord(
  deviceKindSchema,
  z.record(
    commandNameSchema,
    commandSpecSchema.nullish().transform((spec) => spec ?? { args: {} }),
  ),
)
export type CommandCatalogue = z.infer<typeof commandCatalogueSchema>

function argSchemaOf(spec: CommandArgSpec): z.ZodType {
  const base = (() => {
    switch (spec.type) {
      case 'integer':
      case 'number': {
        let n = spec.type === 'integer' ? z.number().int() : z.number()
        if (spec.min !== undefined) n = n.min(spec.min)
        if (spec.max !== undefined) n = n.max(spec.max)
        return n
      }
      case 'boolean':
        return z.boolean()
      case 'string':
        return z.string().max(spec.maxLength)
      case 'enum':
        return z.enum(spec.values as [string, ...string[]])
    }
  })()
  return spec.optional ? base.optional() : base
}

/** The zod schema of a command's args: exactly the declared ones, each of its type and bounds. */
export function commandArgsSchema(spec: CommandSpec): z.ZodType<Record<string, unknown>> {
  const shape: Record<string, z.ZodType> = {}
  for (const [name, arg] of Object.entries(spec.args)) shape[name] = argSchemaOf(arg)
  return z.strictObject(shape) as unknown as z.ZodType<Record<string, unknown>>
}
