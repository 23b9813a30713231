import type { SiteFile, Technician } from '../config/index.ts'
import type { TicketEvent } from '../rules/index.ts'
import type { NotificationRequest } from './notification-schema.ts'
import type { LinkSigner } from './signed-links.ts'
import { escalationMessages, type Language, offerMessages, type TicketFacts } from './templates.ts'

type World = Pick<SiteFile, 'sites' | 'devices' | 'rules' | 'dispatch'>

// A link in an offer stays good for a day: the technician may open it again on site.
const linkLifetimeMs = 86_400_000

/**
 * What staff hear about a ticket event (issue 5): its offered technician an SMS (and a call for a critical
 * rule with `voice: true`), the supervisors its escalation. Customers are told elsewhere.
 */
export function createStaffNotices({
  world,
  technicianOf,
  offersOf,
  links,
  publicUrl,
}: {
  world: World
  technicianOf: (id: string) => Promise<Technician | null>
  /** The tickets offered to a technician now. */
  offersOf: (technician: string) => Promise<{ id: string }[]>
  links: LinkSigner
  publicUrl: string
}) {
  const rules = new Map(world.rules.map((r) => [r.id, r]))
  const sites = new Map(world.sites.map((s) => [s.id, s]))
  const devices = new Map(world.devices.map((d) => [d.id, d]))

  function facts(event: TicketEvent, link: string): TicketFacts {
    const { ticket } = event
    const site = sites.get(ticket.site)
    const device = ticket.device ? devices.get(ticket.device) : undefined
    return {
      rule: rules.get(ticket.rule)?.name ?? ticket.rule,
      severity: ticket.severity,
      site: site?.name ?? ticket.site,
      zone: site?.zones.find((z) => z.id === ticket.zone)?.name ?? ticket.zone,
      device: ticket.device,
      etaMinutes: ticket.offer?.etaMinutes,
      camera: device?.links?.camera,
      intercom: device?.links?.intercom,
      link,
      why: event.detail ?? undefined,
    }
  }

  return {
    /** The notifications one event asks for; `eventId` (the stream entry id) makes their keys unique. */
    requestsFor: async (event: TicketEvent, eventId: string, now: number): Promise<NotificationRequest[]> => {
      const { ticket } = event
      const base = { ticket: ticket.id, event: eventId, audience: 'staff' as const }
      if (event.type === 'ticket.offered' && ticket.offer) {
        const technician = await technicianOf(ticket.offer.technician)
        if (!technician) return []
        const token = links.sign({ ticket: ticket.id, technician: technician.id, exp: now + linkLifetimeMs })
        const language: Language = technician.language === 'fr' ? 'fr' : 'en'
        // A bare "1" would not say which: with another offer open, the SMS names this one's code.
        const shared = (await offersOf(technician.id)).some((t) => t.id !== ticket.id)
        const messages = offerMessages({
          language,
          facts: {
            ...facts(event, `${publicUrl}/t/${token}`),
            ...(shared && ticket.offer.code ? { code: ticket.offer.code } : {}),
          },
          gatherUrl: `${publicUrl}/webhooks/twilio/voice?ticket=${encodeURIComponent(ticket.id)}&technician=${encodeURIComponent(technician.id)}`,
          audioUrl: sites.get(ticket.site)?.voiceMessageUrl,
        })
        const requests: NotificationRequest[] = [
          {
            ...base,
            key: `${ticket.id}:${eventId}:${technician.id}`,
            recipient: technician.id,
            template: 'offer',
            contacts: [
              { channel: 'sms', to: technician.phone },
              ...(technician.email ? [{ channel: 'email' as const, to: technician.email }] : []),
            ],
            content: { sms: messages.sms, email: messages.email },
          },
        ]
        const rule = rules.get(ticket.rule)
        if (rule?.voice && ticket.severity === 'critical')
          requests.push({
            ...base,
            key: `${ticket.id}:${eventId}:${technician.id}:call`,
            recipient: technician.id,
            template: 'offer-call',
            contacts: [{ channel: 'voice', to: technician.phone }],
            content: { voice: messages.voice },
          })
        return requests
      }
      if (event.type === 'ticket.escalated') {
        return world.dispatch.supervisors.flatMap((supervisor) => {
          const contacts = [
            ...(supervisor.phone ? [{ channel: 'sms' as const, to: supervisor.phone }] : []),
            ...(supervisor.email ? [{ channel: 'email' as const, to: supervisor.email }] : []),
          ]
          if (contacts.length === 0) return []
          const language: Language = supervisor.language === 'fr' ? 'fr' : 'en'
          const messages = escalationMessages({
            language,
            facts: facts(event, `${publicUrl}/api/tickets/${ticket.id}`),
          })
          return [
            {
              ...base,
              key: `${ticket.id}:${eventId}:${supervisor.id}`,
              recipient: supervisor.id,
              template: 'escalation',
              contacts,
              content: { sms: messages.sms, email: messages.email },
            },
          ]
        })
      }
      return []
    },
  }
}

export type StaffNotices = ReturnType<typeof createStaffNotices>
