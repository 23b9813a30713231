import { z } from 'zod'

const unitMs = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/** Parses "90s", "5m", "2h" (also "500ms", "1d", "1.5h") to milliseconds. */
export function parseDuration(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim())
  if (!match) return null
  const [, amount, unit] = match
  return Math.round(Number(amount) * unitMs[unit as keyof typeof unitMs])
}

export const durationSchema = z.string().transform((text, ctx) => {
  const ms = parseDuration(text)
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: 'a duration like 90s, 5m or 2h', input: text })
    return z.NEVER
  }
  return ms
})

export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms >= unitMs[unit] && ms % unitMs[unit] === 0) return `${ms / unitMs[unit]}${unit}`
  }
  return `${ms}ms`
}
