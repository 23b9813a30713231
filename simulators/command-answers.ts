import { z } from 'zod'
import type { DeviceKind } from '../domain/index.ts'
import type { DeviceChange } from './device-timeline.ts'

/** What vigie publishes on devices/<id>/commands/<name> (DESIGN.md § MQTT, issue 19). */
const commandMessageSchema = z.object({
  id: z.string().min(1).max(64),
  name: z.string(),
  args: z.record(z.string(), z.unknown()).default({}),
  expiresAt: z.string(),
})

/** The answer a device publishes on its status topic. */
export type CommandAnswer = { command: string; result: 'done' | 'failed'; detail?: string }

/** Seconds a door stays locked when the command names none. */
const defaultLockSeconds = 300

/**
 * How a simulated device answers a command: `buzzer`, `lock` (doors) and `reboot` are done, anything else
 * or a command past its expiry (by the device's clock) failed; `change` is what it does to the device.
 * Null when the message names no command id, so there is nothing to answer.
 */
export function answerCommand({
  kind,
  topicName,
  payload,
  now,
}: {
  kind: DeviceKind
  /** The <name> level of the topic the command came on. */
  topicName: string
  payload: string
  now: number
}): { answer: CommandAnswer; change?: DeviceChange } | null {
  let json: unknown
  try {
    json = JSON.parse(payload)
  } catch {
    return null
  }
  const id = (json as { id?: unknown } | null)?.id
  if (typeof id !== 'string' || id.length === 0 || id.length > 64) return null
  // vigie takes a detail of 500 characters at most: one quoting a hostile name is cut.
  const failed = (detail: string) => ({
    answer: { command: id, result: 'failed' as const, detail: detail.slice(0, 200) },
  })
  const parsed = commandMessageSchema.safeParse(json)
  if (!parsed.success) return failed('expected { id, name, args, expiresAt }')
  const { name, args, expiresAt } = parsed.data
  if (name !== topicName) return failed(`the topic says ${topicName}, the message ${name}`)
  const expiry = Date.parse(expiresAt)
  if (!Number.isFinite(expiry) || expiry <= now) return failed(`expired at ${expiresAt}`)
  const done = (detail: string, change?: DeviceChange) => ({
    answer: { command: id, result: 'done' as const, detail },
    ...(change ? { change } : {}),
  })
  switch (name) {
    case 'buzzer':
      return done('buzzed')
    case 'reboot':
      return done('restarted', { type: 'reboot' })
    case 'lock': {
      if (kind !== 'door') return failed(`a ${kind} device has no lock`)
      const seconds =
        typeof args.seconds === 'number' && Number.isInteger(args.seconds) && args.seconds > 0
          ? args.seconds
          : defaultLockSeconds
      return done(`locked for ${seconds}s`, { type: 'door-lock', until: now + seconds * 1000 })
    }
    default:
      return failed(`unknown command ${name}`)
  }
}
