import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createManualClock } from '../support/manual-clock.ts'
import { startTestService, type TestService } from '../support/test-service.ts'
import { waitFor } from '../support/wait-for.ts'

// 0.001° of latitude is about 111 m: A is nearest but lacks the skill, then B, then C.
const siteFile = `
sites: [{ id: s1, name: Site, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 } }]
devices: [{ id: door-1, kind: door, site: s1, secret: "secret-door-1", location: { lat: 49.0, lon: 2.57 } }]
technicians:
  - { id: tech-a, name: A, phone: "+33600000001", skills: [hvac], location: { lat: 49.001, lon: 2.57 } }
  - { id: tech-b, name: B, phone: "+33600000002", skills: [security], location: { lat: 49.003, lon: 2.57 } }
  - { id: tech-c, name: C, phone: "+33600000003", skills: [security, hvac], location: { lat: 49.006, lon: 2.57 } }
rules: [{ id: door-forced, match: { kind: door }, condition: { unauthorised: true }, severity: critical, skill: security }]
dispatch:
  offerTimeout: 10m
  maxOffers: 3
  travelSpeedKmh: 5
  supervisors: [{ id: duty, name: Duty manager, phone: "+33600000999" }]
`
type TicketView = {
  id: string
  status: string
  offer: { technician: string; etaMinutes: number } | null
  timeline: { type: string; detail: string | null }[]
}

let world: TestService
// Offers expire when the test moves this clock, not after ten minutes of the wall clock.
const clock = createManualClock()

beforeAll(async () => {
  world = await startTestService({ site: siteFile, clock })
})
afterAll(async () => {
  await world?.close()
})

describe('dispatch, readings in over MQTT and offers out through the API', () => {
  it('skips the nearest technician without the skill, offers the nearest qualified, moves on after a decline and after silence, then escalates', async () => {
    await world.publish('door-1', { type: 'door', open: true })
    const first = await waitFor(
      async () => {
        const { items } = await world.api<{ items: TicketView[] }>('/api/tickets?device=door-1')
        return items[0]?.offer ? items[0] : undefined
      },
      { what: 'the first offer' },
    )
    // 333 m at 5 km/h is 4 minutes.
    expect(first.offer).toMatchObject({ technician: 'tech-b', etaMinutes: 4 })

    const declined = await world.api<TicketView>(`/api/tickets/${first.id}/decline`, { method: 'POST' })
    expect(declined).toMatchObject({ status: 'assigned', offer: { technician: 'tech-c' } })

    // Nobody answers tech-c's offer within the 10 minutes; tech-a lacks the skill: the supervisors.
    clock.advance(10 * 60_000)
    const escalated = await waitFor(
      async () => {
        const ticket = await world.api<TicketView>(`/api/tickets/${first.id}`)
        return ticket.timeline.some((e) => e.type === 'ticket.escalated') ? ticket : undefined
      },
      { what: 'the escalation' },
    )
    // No SMS provider is set up here: the notifier's failures are on the timeline too, left out of this check.
    const dispatchSteps = escalated.timeline.filter((e) => !e.type.startsWith('ticket.notif'))
    expect(dispatchSteps.map((e) => [e.type, e.detail?.split(' ')[0]])).toEqual([
      ['ticket.created', 'door-forced'],
      ['ticket.offered', 'tech-b'],
      ['ticket.declined', 'tech-b'],
      ['ticket.offered', 'tech-c'],
      ['ticket.offer_expired', 'tech-c'],
      ['ticket.escalated', 'no'],
    ])
    expect(dispatchSteps.at(-1)?.detail).toBe('no technician on shift with skill security; to Duty manager')
    expect(escalated).toMatchObject({ status: 'open', offer: null })
  })
})
