import type { Customer, SiteFile } from '../config/index.ts'
import { isWithinClockRange } from '../config/index.ts'
import { localTime, type TicketEvent, type TicketSummary } from '../rules/index.ts'
import type { NotificationRequest } from './notification-schema.ts'
import type { SurveyLinks } from './survey-links.ts'
import { customerMessages, type Language } from './templates.ts'
import { whatsappAddress } from './whatsapp-address.ts'

type World = Pick<SiteFile, 'sites' | 'rules'>

/** When a customer's quiet hours end, if they are in them now (minute precision, in the site's zone). */
export function quietUntil(customer: Customer, now: number, timeZone: string): number | undefined {
  const range = customer.quietHours
  if (!range) return undefined
  const { minute } = localTime(now, timeZone)
  if (!isWithinClockRange(range, minute)) return undefined
  const minutesLeft = (range.to - minute + 1440) % 1440
  return nextLocalMinute(now - (now % 60_000) + minutesLeft * 60_000, range.to, timeZone)
}

/**
 * The instant the site's clock shows `target`, from a guess made as if the clock kept its UTC offset: a
 * DST change in between moves it by the change. A target the change skips gives the first minute after it.
 */
function nextLocalMinute(guess: number, target: number, timeZone: string): number {
  // Minutes the clock shows past the target, from -720 to 719.
  const past = (at: number) => ((localTime(at, timeZone).minute - target + 2160) % 1440) - 720
  const tried: number[] = []
  let at = guess
  for (let step = 0; step < 3; step++) {
    const off = past(at)
    if (off === 0) return at
    tried.push(at)
    at -= off * 60_000
  }
  // The guesses straddle the skipped hour: the first minute past the target lies between them.
  let [low, high] = [Math.min(...tried), Math.max(...tried)]
  while (high - low > 60_000) {
    const middle = low + Math.floor((high - low) / 120_000) * 60_000
    if (past(middle) > 0) high = middle
    else low = middle
  }
  return high
}

const channelOf = (contact: Customer['contacts'][number]) =>
  'sms' in contact
    ? { channel: 'sms' as const, to: contact.sms }
    : 'voice' in contact
      ? { channel: 'voice' as const, to: contact.voice }
      : 'whatsapp' in contact
        ? // Its Twilio address: opt-outs and survey answers are keyed by the From that replies carry.
          { channel: 'whatsapp' as const, to: whatsappAddress(contact.whatsapp) }
        : { channel: 'email' as const, to: contact.email }

/**
 * What customers hear about a ticket whose rule has `notifyCustomers` (issue 5): a notice when the first
 * technician is offered it (with the ETA), an update when the technician is en route, an all-clear and
 * then one survey question on resolution. Only customers subscribed to its device, zone or site; their
 * quiet hours hold all but critical messages until they end.
 */
export function createCustomerNotices({
  world,
  customers,
  surveyLinks,
}: {
  world: World
  /** Signs the survey email's one-click answers; without it the email asks as the SMS does. */
  surveyLinks?: SurveyLinks | undefined
  /** The customers subscribed to a ticket's site, zone or device, read at each event, so a customer added or removed through the API counts from the next one. */
  customers: (where: { site: string; zone: string | null; device: string | null }) => Promise<Customer[]>
}) {
  const rules = new Map(world.rules.map((r) => [r.id, r]))
  const sites = new Map(world.sites.map((s) => [s.id, s]))

  const subscribed = async (ticket: TicketSummary) =>
    (await customers({ site: ticket.site, zone: ticket.zone, device: ticket.device })).filter(
      ({ subscribes: s }) =>
        Boolean(
          (ticket.device && s.devices?.includes(ticket.device)) ||
            (ticket.zone && s.zones?.includes(ticket.zone)) ||
            s.sites?.includes(ticket.site),
        ),
    )

  const kindsFor = (event: TicketEvent): ('notice' | 'eta' | 'all-clear' | 'survey')[] => {
    // The notice goes with the first offer only: a re-offer after a decline is not news to customers.
    if (event.type === 'ticket.offered') return event.ticket.counts.offers === 1 ? ['notice'] : []
    if (event.type === 'ticket.en_route') return ['eta']
    if (event.type === 'ticket.resolved') return ['all-clear', 'survey']
    return []
  }

  return {
    requestsFor: async (event: TicketEvent, eventId: string, now: number): Promise<NotificationRequest[]> => {
      const { ticket } = event
      const rule = rules.get(ticket.rule)
      const kinds = kindsFor(event)
      if (!rule?.notifyCustomers || kinds.length === 0) return []
      const audience = await subscribed(ticket)
      const site = sites.get(ticket.site)
      const timeZone = site?.timezone ?? 'UTC'
      const where = [site?.name ?? ticket.site, site?.zones.find((z) => z.id === ticket.zone)?.name]
        .filter(Boolean)
        .join(' / ')
      const facts = { what: rule.name ?? rule.id, where, etaMinutes: ticket.offer?.etaMinutes }
      return kinds.flatMap((kind, order) =>
        audience.map((customer): NotificationRequest => {
          const language: Language = customer.language === 'fr' ? 'fr' : 'en'
          const held = ticket.severity === 'critical' ? undefined : quietUntil(customer, now, timeZone)
          const survey = site?.survey ?? 'csat'
          // Links only for a customer with an email: an NPS survey signs eleven, good from when it is sent.
          const answerLinks =
            kind === 'survey' && surveyLinks && customer.contacts.some((c) => 'email' in c)
              ? surveyLinks({ ticket: ticket.id, customer: customer.id, kind: survey, language }, held ?? now)
              : undefined
          const messages = customerMessages({
            kind,
            language,
            facts: kind === 'survey' ? { ...facts, survey, answerLinks } : facts,
          })
          return {
            // Per ticket, not per event: one notice, one all-clear, one survey, whatever repeats.
            key: `${ticket.id}:${kind}:${customer.id}`,
            ticket: ticket.id,
            event: eventId,
            audience: 'customer',
            recipient: customer.id,
            template: kind,
            contacts: customer.contacts.map(channelOf),
            // WhatsApp carries the SMS text.
            content: { ...messages, whatsapp: messages.sms },
            // The survey follows the all-clear.
            ...(held !== undefined
              ? { notBefore: held + order }
              : order > 0
                ? { notBefore: now + 1000 }
                : {}),
          }
        }),
      )
    },
  }
}

export type CustomerNotices = ReturnType<typeof createCustomerNotices>
