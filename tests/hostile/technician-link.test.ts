import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLinkSigner, type LinkSigner } from '../../notifier/index.ts'
import { openTestRedis } from '../support/redis.ts'
import { startTestService, type TestService } from '../support/test-service.ts'
import { waitFor } from '../support/wait-for.ts'

const site = `
sites:
  - { id: s1, name: Terminal 2, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 }, zones: [{ id: gates, name: Gates }] }
devices:
  - { id: door-1, kind: door, site: s1, zone: gates, secret: "secret-door-1", location: { lat: 49.0, lon: 2.57 } }
technicians:
  - { id: tech-sophie, name: Sophie, phone: "+33600000011", language: fr, skills: [security], location: { lat: 49.001, lon: 2.57 } }
rules:
  - { id: door-forced, name: Door forced, match: { kind: door }, condition: { unauthorised: true }, severity: critical, skill: security }
dispatch: { offerTimeout: 10m, maxOffers: 3, travelSpeedKmh: 5, supervisors: [] }
`

let world: TestService
let redis: Redis
let links: LinkSigner
let token = ''

beforeAll(async () => {
  world = await startTestService({ site })
  ;({ redis } = await openTestRedis())
  // The service's own signing key, read from its Redis: the attacker holds one genuine link, as any technician does.
  links = await createLinkSigner({ redis, key: `${world.prefix}link-secret` })
  await world.publish('door-1', { type: 'door', open: true })
  const ticket = await waitFor(
    async () =>
      (await world.api<{ items: { id: string; status: string }[] }>('/api/tickets')).items.find(
        (t) => t.status === 'assigned',
      ),
    { what: 'the forced door offered to Sophie' },
  )
  token = links.sign({ ticket: ticket.id, technician: 'tech-sophie', exp: Date.now() + 3_600_000 })
})
afterAll(async () => {
  await world?.close()
  await redis?.quit()
})

const page = (path: string, init?: RequestInit) => fetch(`${world.publicUrl}${path}`, init)

describe('a genuine link with something appended', () => {
  const payload = '"><meta http-equiv="refresh" content="0;url=https://evil.example/">'

  it('is refused, and nothing of it reaches a page', async () => {
    const res = await page(`/t/${token}.${encodeURIComponent(payload)}`)
    const html = await res.text()
    expect(html).not.toContain('http-equiv')
    expect(html).not.toContain('evil.example')
    expect(res.status).toBe(403)
  })

  it('is refused as a third segment of any kind, and as a form target', async () => {
    expect((await page(`/t/${token}.x`)).status).toBe(403)
    expect((await page(`/t/${token}..`)).status).toBe(403)
    const res = await page(`/t/${token}.${encodeURIComponent(payload)}/ack`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    })
    expect(res.status).toBe(403)
    expect(await res.text()).not.toContain('http-equiv')
  })

  it('is refused when a segment is not base64url, even if it decodes to the same bytes', async () => {
    const [body = '', signature = ''] = token.split('.')
    // Node's base64 decoder skips characters outside the alphabet: "a!b" decodes as "ab".
    const padded = `${body}.${signature.slice(0, 4)}!${signature.slice(4)}`
    expect((await page(`/t/${encodeURIComponent(padded)}`)).status).toBe(403)
  })

  it('still opens the page when the link is exactly as signed', async () => {
    const res = await page(`/t/${token}`)
    expect(res.status).toBe(200)
    expect(await res.text()).toContain(`action="/t/${token}/ack"`)
  })
})
