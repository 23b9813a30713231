import { z } from 'zod'

export const dryRunBodySchema = z.strictObject({
  // Each reading is { device, ts, ...payload }; they are checked one by one so one bad line names its index.
  readings: z.array(z.unknown()).min(1).max(100_000),
  until: z.union([z.iso.datetime({ offset: true }), z.number().int().min(0)]).optional(),
})

export type DryRunBody = { readings: unknown[]; until?: number }

/** The dry run's body from its JSON text, read in the dry-run thread: what is wrong with it, or what it asks. */
export function readDryRunBody(
  text: string,
): { body: DryRunBody } | { invalid: { message: string; details: unknown } } {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    return {
      invalid: {
        message: `The body is not JSON: ${err instanceof Error ? err.message : String(err)}`,
        details: [],
      },
    }
  }
  const parsed = dryRunBodySchema.safeParse(json)
  if (!parsed.success)
    return {
      invalid: {
        message: 'Invalid body',
        details: parsed.error.issues.map((issue) => ({
          path: ['body', ...issue.path.map(String)].join('.'),
          message: issue.message,
        })),
      },
    }
  const { readings, until } = parsed.data
  if (until === undefined) return { body: { readings } }
  return { body: { readings, until: typeof until === 'number' ? until : Date.parse(until) } }
}
