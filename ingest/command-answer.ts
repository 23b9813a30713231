import { z } from 'zod'

/** A device's answer to a command, on its status topic (DESIGN.md § MQTT, issue 19). */
export const commandAnswerSchema = z.strictObject({
  command: z.string().min(1).max(64),
  result: z.enum(['done', 'failed']),
  detail: z.string().max(500).optional(),
})
export type CommandAnswerMessage = z.infer<typeof commandAnswerSchema>

/** The answer a status payload holds, or why it is not one. */
export function parseCommandAnswer(
  text: string,
): { ok: true; answer: CommandAnswerMessage } | { ok: false; reason: string } {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return { ok: false, reason: 'status: not JSON, nor "online" or "offline"' }
  }
  const parsed = commandAnswerSchema.safeParse(json)
  return parsed.success
    ? { ok: true, answer: parsed.data }
    : { ok: false, reason: 'status: expected { command, result: done|failed, detail? }' }
}
