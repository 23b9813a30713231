import { createHmac } from 'node:crypto'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLinkSigner, type LinkSigner, type SurveyLinkPayload } from '../../notifier/index.ts'
import { oneDoorSite } from '../support/one-door-site.ts'
import { openTestRedis } from '../support/redis.ts'
import { startTestService, type TestService } from '../support/test-service.ts'
import { waitFor } from '../support/wait-for.ts'

let world: TestService
let redis: Redis
let links: LinkSigner
let ticket = ''

beforeAll(async () => {
  world = await startTestService({ site: oneDoorSite })
  ;({ redis } = await openTestRedis())
  // The service's own signing key, read from its Redis: the tests hold what the notifier would sign.
  links = await createLinkSigner({ redis, key: `${world.prefix}link-secret` })
  await world.publish('door-1', { type: 'door', open: true })
  ticket = (
    await waitFor(async () => (await world.api<{ items: { id: string }[] }>('/api/tickets')).items[0], {
      what: 'the forced door ticket',
    })
  ).id
})
afterAll(async () => {
  await world?.close()
  await redis?.quit()
})

const later = () => Date.now() + 3_600_000
const signed = (over: Partial<SurveyLinkPayload> = {}) =>
  links.survey.sign({ t: ticket, c: 'cust-1', k: 'nps', s: 9, l: 'en', exp: later(), ...over })
const post = (path: string, init: RequestInit = {}) =>
  fetch(`${world.publicUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: '',
    ...init,
  })
const answers = async () =>
  (
    await world.api<{ timeline: { type: string; detail: string | null }[] }>(`/api/tickets/${ticket}`)
  ).timeline.filter((e) => e.type === 'ticket.survey_answered')

describe('forged survey links', () => {
  it("refuses a technician page's token, and a survey payload signed with the technician key", async () => {
    const technicianToken = links.sign({ ticket, technician: 'tech-1', exp: later() })
    expect((await post(`/s/${technicianToken}`)).status).toBe(403)
    // The shared secret itself, not the key derived for surveys: a token minted as the technician links are.
    const secret = Buffer.from((await redis.get(`${world.prefix}link-secret`)) ?? '', 'base64url')
    const body = Buffer.from(
      JSON.stringify({ t: ticket, c: 'cust-1', k: 'nps', s: 10, l: 'en', exp: later() }),
    ).toString('base64url')
    const mac = createHmac('sha256', secret).update(body).digest('base64url')
    expect((await post(`/s/${body}.${mac}`)).status).toBe(403)
    // And the other way round: a survey token opens no technician page.
    expect((await fetch(`${world.publicUrl}/t/${signed()}`)).status).toBe(403)
    expect(await answers()).toEqual([])
  })

  it('refuses well-signed payloads that break the schema: off the scale, unknown kind or language, extra fields', async () => {
    const sign = (payload: Record<string, unknown>) => links.survey.sign(payload as SurveyLinkPayload)
    const base = { t: ticket, c: 'cust-1', k: 'nps', s: 9, l: 'en', exp: later() }
    for (const payload of [
      { ...base, s: 11 },
      { ...base, s: -1 },
      { ...base, k: 'ces', s: 0 },
      { ...base, s: 9.5 },
      { ...base, k: 'stars' },
      { ...base, l: 'de' },
      { ...base, admin: true },
      { ...base, exp: 'never' },
    ]) {
      const res = await post(`/s/${sign(payload)}`)
      expect(res.status).toBe(403)
    }
    expect(await answers()).toEqual([])
  })

  it('refuses tokens of the right shape but not ours, and tokens of any other shape, echoing none of them', async () => {
    const markup = '<script>alert(1)</script>'
    for (const token of [
      `${'A'.repeat(40)}.${'B'.repeat(43)}`,
      `${signed()}.x`,
      `${signed()}..`,
      signed().replace('.', '..'),
      encodeURIComponent(markup),
      encodeURIComponent(`${signed().slice(0, 20)}!${signed().slice(20)}`),
      '%00%00%00%00%00%00%00%00%00%00',
    ]) {
      const res = await fetch(`${world.publicUrl}/s/${token}`)
      const html = await res.text()
      expect(res.status).toBe(403)
      expect(html).not.toContain('<script>')
      expect(html).toContain('This link is not valid or has expired')
    }
  })

  it('refuses a link to a ticket that does not exist, and leaves nothing behind', async () => {
    const ghost = signed({ t: 'no-such-ticket' })
    const res = await post(`/s/${ghost}`)
    expect(res.status).toBe(410)
    expect(await res.text()).toContain('This survey is closed.')
    // Not remembered as answered: it says closed again, not "already recorded".
    expect((await post(`/s/${ghost}`)).status).toBe(410)
  })
})

describe('huge survey links and bodies', () => {
  it('refuses tokens up to the router limit with 403, longer ones before any handler, and stays up', async () => {
    const long = `${'A'.repeat(1024 - 44)}.${'B'.repeat(43)}`
    expect(long).toHaveLength(1024)
    expect((await fetch(`${world.publicUrl}/s/${long}`)).status).toBe(403)
    for (const size of [1025, 8_000]) {
      const res = await fetch(`${world.publicUrl}/s/${'A'.repeat(size)}`)
      expect([404, 414, 431]).toContain(res.status)
    }
    const res = await post(`/s/${signed()}`, { body: `x=${'y'.repeat(64_000)}` })
    expect(res.status).toBe(413)
    expect(await answers()).toEqual([])
    expect((await fetch(`${world.publicUrl}/healthz`)).status).toBe(200)
  })
})

describe('replayed survey links', () => {
  it('records one answer of many presses at once, and a HEAD (a prefetch) records nothing', async () => {
    const token = signed({ c: 'cust-replay', s: 10 })
    expect((await fetch(`${world.publicUrl}/s/${token}`, { method: 'HEAD' })).status).toBe(200)
    expect(await answers()).toEqual([])
    const presses = await Promise.all(Array.from({ length: 8 }, () => post(`/s/${token}`)))
    expect(presses.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409, 409, 409, 409])
    // Another score for the same customer and ticket changes nothing either.
    expect((await post(`/s/${signed({ c: 'cust-replay', s: 0 })}`)).status).toBe(409)
    expect((await answers()).map((e) => e.detail)).toEqual(['nps:10'])
  })
})
