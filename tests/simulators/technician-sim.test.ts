import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { siteFileSchema } from '../../config/index.ts'
import {
  createFleet,
  createMqttTransport,
  createTechnicianSim,
  type Fleet,
  simulatableDevices,
  type TechnicianSim,
  type TechnicianStep,
} from '../../simulators/index.ts'
import { startSmtpServer } from '../support/smtp-server.ts'
import { engageEnv, startTestService, type TestService, testTwilioAccount } from '../support/test-service.ts'
import { startTwilioServer, type TwilioServer } from '../support/twilio-server.ts'
import { waitFor } from '../support/wait-for.ts'

// Sophie stands about 110 m from the door: a walk of about a minute and a half.
const siteFile = `
sites:
  - { id: s1, name: Terminal 2, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 }, zones: [{ id: gates, name: Gates }] }
devices:
  - { id: door-1, kind: door, site: s1, zone: gates, secret: "secret-door-1", location: { lat: 49.0, lon: 2.57 } }
  - { id: temp-1, kind: temperature, site: s1, zone: gates, secret: "secret-temp-1", location: { lat: 49.0001, lon: 2.57 } }
technicians:
  - { id: tech-sophie, name: Sophie, phone: "+33600000011", language: fr, skills: [security], location: { lat: 49.001, lon: 2.57 } }
rules:
  - { id: door-forced, name: Door forced, match: { kind: door }, condition: { unauthorised: true }, severity: critical, skill: security }
dispatch: { offerTimeout: 10m, maxOffers: 3, travelSpeedKmh: 5 }
`
const authToken = 'twilio-test-auth-token-0123456789'
const adminKey = 'technician-sim-admin-key-012345'
let world: TestService
let twilioServer: TwilioServer
let smtp: Awaited<ReturnType<typeof startSmtpServer>>
let fleet: Fleet
let technicians: TechnicianSim
const steps: TechnicianStep[] = []

type TicketView = {
  id: string
  status: string
  assignee: string | null
  resolvedAt: string | null
  timeline: { type: string; by: string; detail: string | null }[]
}

beforeAll(async () => {
  twilioServer = await startTwilioServer()
  smtp = await startSmtpServer()
  world = await startTestService({
    site: siteFile,
    adminKey,
    env: engageEnv({ twilioUrl: twilioServer.url, smtpUrl: smtp.url, authToken }),
  })
  const site = siteFileSchema.parse(parse(siteFile))
  fleet = createFleet({
    sites: site.sites,
    devices: simulatableDevices(site.devices).devices,
    seed: 'technicians',
    pace: { readingEveryMs: 500, heartbeatEveryMs: 5_000 },
    transport: createMqttTransport({ url: `mqtt://127.0.0.1:${world.mqttPort}` }),
  })
  fleet.start()
  technicians = createTechnicianSim({
    apiUrl: world.publicUrl,
    publicUrl: world.publicUrl,
    apiKey: adminKey,
    twilioAuthToken: authToken,
    twilioAccountSid: testTwilioAccount.accountSid,
    twilioNumber: testTwilioAccount.number,
    seed: 'technicians',
    // Two hundred simulated seconds a second: the walk and the repair take a couple of seconds.
    timeScale: 200,
    reactionMs: [5_000, 20_000],
    repairMs: [60_000, 120_000],
    repair: (ticket) => void fleet.endScenariosOn({ device: ticket.device, zone: ticket.zone }),
    onStep: (step) => steps.push(step),
  })
  await technicians.start()
  await waitFor(() => fleet.stats().connected === 2, { what: 'the devices connected' })
})
afterAll(async () => {
  await technicians?.close()
  await fleet?.close()
  await world?.close()
  await twilioServer?.close()
  await smtp?.close()
})

describe('the technician simulator closes the loop', () => {
  it('accepts a forced door by SMS, walks there, fixes it and resolves the ticket', async () => {
    const run = fleet.startScenario('door-forced', { target: 'door-1' })
    const offer = await waitFor(
      () =>
        twilioServer
          .accepted()
          .find((r) => r.path.endsWith('/Messages.json') && r.form.To === '+33600000011'),
      { what: 'the offer SMS to Sophie' },
    )
    expect(offer.form.Body).toContain('door-1')

    const resolved = await waitFor(
      async () => {
        const { items } = await world.api<{ items: TicketView[] }>('/api/tickets?device=door-1')
        const ticket = items[0] && (await world.api<TicketView>(`/api/tickets/${items[0].id}`))
        return ticket?.status === 'resolved' ? ticket : false
      },
      { what: 'the ticket resolved by the simulated technician', timeoutMs: 20_000 },
    )
    expect(resolved.assignee).toBe('tech-sophie')
    const types = resolved.timeline.map((e) => e.type)
    const order = ['ticket.acknowledged', 'ticket.en_route', 'ticket.on_site', 'ticket.resolved'].map((t) =>
      types.indexOf(t),
    )
    expect(order.every((i) => i >= 0)).toBe(true)
    expect(order).toEqual([...order].sort((a, b) => a - b))
    expect(resolved.timeline.find((e) => e.type === 'ticket.acknowledged')?.detail).toBe('by reply')
    expect(resolved.timeline.find((e) => e.type === 'ticket.resolved')?.detail).toContain('Sophie')

    // The fault was ended before the ticket was resolved; the door's reading saying so lands moments later.
    expect(run.isActive()).toBe(false)
    const last = await waitFor(
      async () => {
        const { items } = await world.api<{ items: { type: string; open?: boolean }[] }>(
          '/api/devices/door-1/readings?limit=1',
        )
        return items[0]?.open === false ? items[0] : undefined
      },
      { what: 'the door closed again' },
    )
    expect(last).toMatchObject({ type: 'door', open: false })

    // She walked there in steps and now stands at the door.
    const moves = steps.filter((s) => s.step === 'moved' && s.ticket === resolved.id)
    expect(moves.length).toBeGreaterThanOrEqual(5)
    const sophie = await world.api<{ position: { lat: number; lon: number } | null }>(
      '/api/technicians/tech-sophie',
    )
    expect(sophie.position?.lat).toBeCloseTo(49.0, 4)
    expect(steps.filter((s) => s.ticket === resolved.id && s.step !== 'moved').map((s) => s.step)).toEqual([
      'offered',
      'accepted',
      'en-route',
      'on-site',
      'repaired',
      'resolved',
    ])
  })
})
