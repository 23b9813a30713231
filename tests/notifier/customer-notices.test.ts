import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../config/index.ts'
import { createCustomerNotices } from '../../notifier/index.ts'
import { type TicketEvent, ticketEventSchema } from '../../rules/index.ts'

const { site } = loadConfig({ env: {} })
// Sky Lounge's quiet hours end at 07:00 Paris; 12:00 UTC is outside them.
const noon = Date.parse('2026-12-01T12:00:00Z')

/** A `ticket.offered` event of the demo's lounge-too-hot rule, as the stream carries it: the ticket's summary. */
const offered = (offers: number): TicketEvent =>
  ticketEventSchema.parse({
    type: 'ticket.offered',
    id: 't-1',
    correlationKey: 'lounge-too-hot:temp-lounge-1',
    at: new Date(noon).toISOString(),
    by: 'dispatch',
    detail: 'tech-amina 0.20 km, ETA 3 min',
    from: 'open',
    to: 'assigned',
    ticket: {
      id: 't-1',
      correlationKey: 'lounge-too-hot:temp-lounge-1',
      rule: 'lounge-too-hot',
      device: 'temp-lounge-1',
      site: 'cdg-t2',
      zone: 't2-lounges',
      severity: 'major',
      status: 'assigned',
      assignee: 'tech-amina',
      offer: { technician: 'tech-amina', expiresAt: new Date(noon).toISOString(), etaMinutes: 3 },
      createdAt: new Date(noon).toISOString(),
      slaDueAt: new Date(noon).toISOString(),
      resolvedAt: null,
      counts: { timeline: 2 * offers, offers, incidents: 1 },
    },
  })

describe('customer notices from ticket events', () => {
  const notices = createCustomerNotices({ world: site, customers: async () => site.customers })

  it("tells the ticket's customers on its first offer, read off the summary's offer count", async () => {
    const requests = await notices.requestsFor(offered(1), '1-0', noon)
    expect(requests.map((r) => [r.recipient, r.template]).sort()).toEqual([
      ['cust-dutyfree-etoile', 'notice'],
      ['cust-salon-horizon', 'notice'],
      ['cust-skylounge', 'notice'],
      ['cust-tarmac-services', 'notice'],
    ])
  })

  it('says nothing on a re-offer after a decline', async () => {
    expect(await notices.requestsFor(offered(2), '2-0', noon)).toEqual([])
  })
})
