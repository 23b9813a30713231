import type { Rule } from '../config/index.ts'
import type { LifeStep } from './life-steps.ts'
import { messageTrail } from './message-trail.ts'
import type { Random } from './seeded-random.ts'
import type { WorldIndex } from './world-index.ts'
import { hourMs, minuteMs } from './year-calendar.ts'

const minute = minuteMs
const hour = hourMs

type Customer = WorldIndex['world']['customers'][number]

/**
 * Who hears about a ticket's events, as the notifier's staff and customer notices decide: the offered
 * technician (and a call for a critical voice rule), the duty managers on escalation, the subscribed
 * customers on the first offer, en route and resolution; a third of surveys are answered.
 */
export function lifeMessages({
  rule,
  index,
  customers,
  random,
  steps,
}: {
  rule: Rule
  index: WorldIndex
  customers: Customer[]
  random: Random
  /** Where the messages' steps go. */
  steps: LifeStep[]
}) {
  const { supervisors } = index.world.dispatch
  return {
    customers: (kind: 'notice' | 'eta' | 'all-clear' | 'survey', at: number) => {
      for (const customer of customers) {
        const trail = messageTrail({
          at: kind === 'survey' ? at + 1000 : at,
          message: {
            keySuffix: `${kind}:${customer.id}`,
            event: `${at}-0`,
            audience: 'customer',
            recipient: customer.id,
            template: kind,
          },
          contacts: index.contactsOf(customer),
          heldUntil: rule.severity === 'critical' ? undefined : index.heldUntil(customer, at),
          random,
        })
        steps.push(...trail.steps)
        // The survey's one question, answered by SMS or the email's signed link, by about a third.
        if (kind === 'survey' && trail.reached && random.chance(0.35)) {
          const score = random.weighted({ '5': 45, '4': 30, '3': 12, '2': 7, '1': 6 })
          steps.push({
            at: trail.reached.at + 30_000 + random.exponential(40 * minute, 6 * hour),
            kind: 'note',
            type: 'ticket.survey_answered',
            by: 'customer',
            detail: score,
          })
        }
      }
    },
    technician: (technician: string, at: number) => {
      const person = index.technician(technician)
      if (!person) return
      const event = `${at}-0`
      const base = { event, audience: 'staff' as const, recipient: technician }
      steps.push(
        ...messageTrail({
          at,
          message: { ...base, keySuffix: `${event}:${technician}`, template: 'offer' },
          contacts: [
            { channel: 'sms', to: person.phone },
            ...(person.email ? [{ channel: 'email' as const, to: person.email }] : []),
          ],
          heldUntil: undefined,
          random,
        }).steps,
      )
      if (rule.voice && rule.severity === 'critical')
        steps.push(
          ...messageTrail({
            at,
            message: { ...base, keySuffix: `${event}:${technician}:call`, template: 'offer-call' },
            contacts: [{ channel: 'voice', to: person.phone }],
            heldUntil: undefined,
            random,
          }).steps,
        )
    },
    supervisors: (at: number) => {
      for (const supervisor of supervisors) {
        const contacts = [
          ...(supervisor.phone ? [{ channel: 'sms' as const, to: supervisor.phone }] : []),
          ...(supervisor.email ? [{ channel: 'email' as const, to: supervisor.email }] : []),
        ]
        if (contacts.length === 0) continue
        steps.push(
          ...messageTrail({
            at,
            message: {
              keySuffix: `${at}-0:${supervisor.id}`,
              event: `${at}-0`,
              audience: 'staff',
              recipient: supervisor.id,
              template: 'escalation',
            },
            contacts,
            heldUntil: undefined,
            random,
          }).steps,
        )
      }
    },
  }
}
