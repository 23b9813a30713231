import type { Notification } from '../notifier/index.ts'
import type { LifeStep, MessagePlan } from './life-steps.ts'
import type { Random } from './seeded-random.ts'

export type Contact = { channel: Notification['channel']; to: string }

/** How a message went out: its steps, and the channel and time it reached its recipient, if it did. */
export type Trail = { steps: LifeStep[]; reached: { channel: Notification['channel']; at: number } | null }

const failureShare: Record<Notification['channel'], number> = {
  sms: 0.03,
  voice: 0.06,
  email: 0.01,
  whatsapp: 0.02,
}

// A refusal is answered at once; a provider outage is retried with backoff, eight attempts over minutes.
const refusals: Record<Notification['channel'], string> = {
  sms: "twilio 21211: The 'To' number is not a valid phone number",
  voice: 'twilio 13224: The phone number is not reachable',
  email: 'smtp 550: mailbox unavailable',
  whatsapp: 'twilio 63016: outside the allowed window of 24 hours',
}
const outage = 'provider unavailable (503) after 8 attempts'

function providerId(channel: Notification['channel'], random: Random): string {
  if (channel === 'sms' || channel === 'whatsapp') return `SM${random.hex(32)}`
  if (channel === 'voice') return `CA${random.hex(32)}`
  return `<${random.hex(24)}@smtp.cdg.example>`
}

/**
 * One request of the notifier, as its delivery queue lives it: a record opened as queued, sent (or held
 * until quiet hours end), delivered by the provider's receipt for SMS and calls; a failure moves on to
 * the recipient's next contact, as `giveUp` does.
 */
export function messageTrail({
  at,
  message,
  contacts,
  heldUntil,
  random,
}: {
  at: number
  message: Omit<MessagePlan, 'channel' | 'to'>
  contacts: Contact[]
  heldUntil: number | undefined
  random: Random
}): Trail {
  const steps: LifeStep[] = []
  let queuedAt = at + random.between(20, 400)
  for (const contact of contacts) {
    const plan: MessagePlan = { ...message, ...contact }
    steps.push({ at: queuedAt, kind: 'queue', message: plan })
    let sentAt = Math.max(queuedAt, heldUntil ?? 0) + random.between(300, 3000)
    if (random.chance(failureShare[contact.channel])) {
      const refused = random.chance(0.6)
      if (!refused) sentAt += random.between(4, 9) * 60_000
      steps.push({
        at: sentAt,
        kind: 'outcome',
        message: plan,
        attempts: refused ? 1 : 8,
        status: 'failed',
        providerId: null,
        error: refused ? refusals[contact.channel] : outage,
      })
      queuedAt = sentAt + random.between(5, 50)
      continue
    }
    const id = providerId(contact.channel, random)
    steps.push({
      at: sentAt,
      kind: 'outcome',
      message: plan,
      attempts: 1,
      status: 'sent',
      providerId: id,
      error: null,
    })
    // Only Twilio reports delivery; an email stays sent.
    if (contact.channel !== 'email' && random.chance(0.97))
      steps.push({
        at: sentAt + random.between(1000, 20_000),
        kind: 'receipt',
        message: plan,
        providerId: id,
      })
    return { steps, reached: { channel: contact.channel, at: sentAt } }
  }
  return { steps, reached: null }
}
