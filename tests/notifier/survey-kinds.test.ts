import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../config/index.ts'
import { readSurveyAnswer } from '../../domain/index.ts'
import {
  createCustomerNotices,
  createLinkSigner,
  createSurveyLinks,
  type LinkSigner,
} from '../../notifier/index.ts'
import { type TicketEvent, ticketEventSchema } from '../../rules/index.ts'
import { openTestRedis } from '../support/redis.ts'
import { writeTempFile } from '../support/temp-files.ts'

const noon = Date.parse('2026-12-01T12:00:00Z')

// Three sites, one per survey; s-csat names none, so it asks the default.
const { site: world } = loadConfig({
  env: {
    VIGIE_CONFIG: writeTempFile(
      'site.yaml',
      `
sites:
  - { id: s-nps, name: Terminal 1, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 }, survey: nps }
  - { id: s-ces, name: Terminal 2, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 }, survey: ces }
  - { id: s-csat, name: Terminal 3, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 } }
customers:
  - { id: fr-sms, name: Salon, language: fr, contacts: [{ sms: "+33600000101" }], subscribes: { sites: [s-nps, s-ces, s-csat] } }
  - { id: en-mail, name: Airline, language: en, contacts: [{ email: desk@airline.example }], subscribes: { sites: [s-nps, s-ces, s-csat] } }
rules:
  - { id: hot, name: Too hot, match: { kind: temperature }, condition: { field: celsius, above: 30, clearBelow: 28 }, severity: major, notifyCustomers: true }
`,
    ),
  },
})

/** The `ticket.resolved` event of a ticket on this site, as the stream carries it. */
const resolvedOn = (site: string): TicketEvent =>
  ticketEventSchema.parse({
    type: 'ticket.resolved',
    id: `t-${site}`,
    correlationKey: 'hot:temp-1',
    at: new Date(noon).toISOString(),
    by: 'tech-1',
    detail: null,
    from: 'on_site',
    to: 'resolved',
    ticket: {
      id: `t-${site}`,
      correlationKey: 'hot:temp-1',
      rule: 'hot',
      device: null,
      site,
      zone: null,
      severity: 'major',
      status: 'resolved',
      assignee: 'tech-1',
      offer: null,
      createdAt: new Date(noon - 600_000).toISOString(),
      slaDueAt: new Date(noon).toISOString(),
      resolvedAt: new Date(noon).toISOString(),
      counts: { timeline: 6, offers: 1, incidents: 1 },
    },
  })

let redis: Redis
let links: LinkSigner
beforeAll(async () => {
  const opened = await openTestRedis()
  redis = opened.redis
  links = await createLinkSigner({ redis, key: `${opened.prefix}link-secret` })
})
afterAll(async () => {
  await redis?.quit()
})

const lifetimeMs = 14 * 86_400_000
async function surveysOf(site: string) {
  const notices = createCustomerNotices({
    world,
    customers: async () => world.customers,
    surveyLinks: createSurveyLinks({ links, publicUrl: 'https://vigie.example', lifetimeMs }),
  })
  const requests = await notices.requestsFor(resolvedOn(site), '1-0', noon)
  const survey = (customer: string) => {
    const found = requests.find((r) => r.template === 'survey' && r.recipient === customer)
    if (!found) throw new Error(`no survey to ${customer}`)
    return found
  }
  return { fr: survey('fr-sms'), en: survey('en-mail') }
}

/** The scores the email's links record, read back through the signature as the answer page reads them. */
const linkedScores = (html: string, at: number) =>
  [...html.matchAll(/href="https:\/\/vigie\.example\/s\/([^"]+)"/g)].map((m) =>
    links.survey.verify(m[1] ?? '', at),
  )

describe("the survey asks the site's question", () => {
  it('asks an nps site 0–10 "would you recommend", in French and in English', async () => {
    const { fr, en } = await surveysOf('s-nps')
    expect(fr.content.sms?.text).toBe(
      '[vigie] Recommanderiez-vous notre service à un proche ou à un collègue ? Répondez de 0 (pas du tout) à 10 (certainement).',
    )
    expect(en.content.sms?.text).toBe(
      '[vigie] Would you recommend us to a friend or colleague? Reply 0 (not at all likely) to 10 (extremely likely).',
    )
    expect(en.content.email?.subject).toBe('Would you recommend us to a friend or colleague?')
  })

  it('gives an nps email eleven signed links, 0 to 10, each naming the ticket, the customer and its score', async () => {
    const { en } = await surveysOf('s-nps')
    const scores = linkedScores(en.content.email?.html ?? '', noon)
    expect(scores).toEqual(
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((s) => ({
        t: 't-s-nps',
        c: 'en-mail',
        k: 'nps',
        s,
        l: 'en',
        exp: noon + lifetimeMs,
      })),
    )
    // The plain-text part carries the same links, one per line.
    expect(en.content.email?.text.match(/^\d+: https:\/\/vigie\.example\/s\//gm)).toHaveLength(11)
    // Past their lifetime, the links no longer verify.
    expect(linkedScores(en.content.email?.html ?? '', noon + lifetimeMs).every((p) => p === null)).toBe(true)
  })

  it('asks a ces site 1–7 "how easy", with seven links', async () => {
    const { fr, en } = await surveysOf('s-ces')
    expect(fr.content.sms?.text).toBe(
      '[vigie] Était-ce facile pour vous d’obtenir la résolution de ce problème ? Répondez de 1 (très difficile) à 7 (très facile).',
    )
    expect(en.content.sms?.text).toBe(
      '[vigie] How easy was it for you to get this problem solved? Reply 1 (very hard) to 7 (very easy).',
    )
    expect(linkedScores(en.content.email?.html ?? '', noon).map((p) => p?.s)).toEqual([1, 2, 3, 4, 5, 6, 7])
  })

  it('asks CSAT 1–5 where the site names no survey, as before issue 18, with five links by email', async () => {
    const { fr, en } = await surveysOf('s-csat')
    expect(fr.content.sms?.text).toBe(
      '[vigie] Êtes-vous satisfait de notre intervention ? Répondez de 1 (pas du tout) à 5 (très).',
    )
    expect(linkedScores(en.content.email?.html ?? '', noon).map((p) => `${p?.k}:${p?.s}`)).toEqual([
      'csat:1',
      'csat:2',
      'csat:3',
      'csat:4',
      'csat:5',
    ])
  })

  it('signs no links for a customer without an email', async () => {
    const { fr } = await surveysOf('s-nps')
    expect(fr.content.email?.html).not.toContain('/s/')
  })
})

describe('survey answers on the timeline', () => {
  it('reads "<kind>:<score>", and a bare score of before issue 18 as CSAT', () => {
    expect(readSurveyAnswer('nps:0')).toEqual({ kind: 'nps', score: 0 })
    expect(readSurveyAnswer('ces:7')).toEqual({ kind: 'ces', score: 7 })
    expect(readSurveyAnswer('4')).toEqual({ kind: 'csat', score: 4 })
    expect(readSurveyAnswer('csat:5')).toEqual({ kind: 'csat', score: 5 })
  })

  it('reads nothing off its scale or of another shape', () => {
    for (const detail of ['nps:11', 'ces:0', 'ces:8', '0', '6', 'csat:', 'xyz:3', ' 4', '4.5', '', null])
      expect(readSurveyAnswer(detail)).toBeNull()
  })
})
