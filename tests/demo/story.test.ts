import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { demoSitePath, loadConfig } from '../../config/index.ts'
import { airportStory, runDemo } from '../../demo/index.ts'
import { createLogger, findFreePort } from '../../service/index.ts'
import { openTestRedis } from '../support/redis.ts'
import { writeTempFile } from '../support/temp-files.ts'
import { waitFor } from '../support/wait-for.ts'

type SiteYaml = {
  technicians: { shift?: unknown }[]
  customers: { quietHours?: unknown }[]
  rules: { id: string; for?: string }[]
}

/**
 * The demo site at twenty times the pace: the lounge rule's 60 s become 3 s; shifts and quiet hours go, so
 * the run is the same at any hour of the day (then the nearest qualified technician always gets the offer).
 */
function twentyTimesFaster(): string {
  const site = parse(readFileSync(demoSitePath, 'utf8')) as SiteYaml
  for (const technician of site.technicians) delete technician.shift
  for (const customer of site.customers) delete customer.quietHours
  const hot = site.rules.find((r) => r.id === 'lounge-too-hot')
  if (hot) hot.for = '3s'
  return stringify(site)
}

const lines: string[] = []
let demo: Awaited<ReturnType<typeof runDemo>>
const adminKey = 'story-test-admin-key-0123456789'

beforeAll(async () => {
  const { url, prefix, redis } = await openTestRedis()
  await redis.quit()
  const [httpPort, mqttPort] = [await findFreePort(), await findFreePort()]
  const config = loadConfig({
    env: {
      VIGIE_CONFIG: writeTempFile('story-site.yaml', twentyTimesFaster()),
      REDIS_URL: url,
      REDIS_PREFIX: prefix,
      HTTP_PORT: String(httpPort),
      MQTT_PORT: String(mqttPort),
      BIND_HOST: '127.0.0.1',
      PUBLIC_URL: `http://127.0.0.1:${httpPort}`,
    },
  })
  demo = await runDemo({
    config,
    log: createLogger({ level: 'silent' }),
    adminKey,
    print: (line) => lines.push(line),
    // Its deadline is story time: 840 s at twenty times the pace is the 42 s of real time it had at ten.
    story: airportStory({ seed: 'story-test', speed: 20, deadlineMs: 840_000 }),
  })
}, 60_000)
afterAll(async () => {
  await demo?.close('test over')
})

type TicketView = {
  id: string
  rule: string
  device: string | null
  status: string
  assignee: string | null
  timeline: { type: string; by: string; detail: string | null }[]
}

const get = async <T>(path: string): Promise<T> =>
  (await (
    await fetch(`${demo.httpUrl}${path}`, { headers: { authorization: `Bearer ${adminKey}` } })
  ).json()) as T

describe('the airport demo story, twenty times faster', () => {
  it('opens the three tickets, dispatches, notifies, resolves and surveys them, then prints the KPIs', async () => {
    const kpis = await demo.play()

    const { items } = await get<{ items: TicketView[] }>('/api/tickets')
    const tickets = await Promise.all(items.map((t) => get<TicketView>(`/api/tickets/${t.id}`)))
    const summary = tickets
      .map((t) => ({ rule: t.rule, device: t.device, status: t.status, assignee: t.assignee }))
      .sort((a, b) => a.rule.localeCompare(b.rule))
    expect(summary).toEqual([
      { rule: 'aed-removed', device: 'aed-security-1', status: 'resolved', assignee: 'tech-julien' },
      { rule: 'door-forced', device: 'door-gate-2', status: 'resolved', assignee: 'tech-omar' },
      { rule: 'lounge-too-hot', device: 'temp-lounge-2', status: 'resolved', assignee: 'tech-amina' },
    ])
    for (const ticket of tickets) {
      const steps = ticket.timeline.map((e) => e.type).filter((type) => type !== 'ticket.notified')
      expect(steps.slice(0, 6)).toEqual([
        'ticket.created',
        'ticket.offered',
        'ticket.acknowledged',
        'ticket.en_route',
        'ticket.on_site',
        'ticket.resolved',
      ])
    }

    // What the phones and mailboxes received, by channel, recipient and kind of message.
    const received = (demo.standIns?.messages ?? [])
      .map((m) => `${m.channel} ${m.to} ${kindOf(m.body)}`)
      .sort()
    // Salon Horizon is on WhatsApp (issue 18): the same four messages, to its whatsapp: address.
    const lounge = ['sms +33600000101', 'whatsapp whatsapp:+33600000102', 'sms +33600000106'].flatMap((to) =>
      ['notice', 'eta', 'all-clear', 'survey'].map((kind) => `${to} ${kind}`),
    )
    expect(received).toEqual(
      [
        'sms +33600000001 offer', // Amina, hvac: the lounge
        'sms +33600000004 offer', // Omar, security, nearest the door
        'sms +33600000002 offer', // Julien, first aid, at the checkpoint: the AED, called as well
        'voice +33600000002 call',
        ...lounge,
      ].sort(),
    )

    const answers = tickets.flatMap((t) => t.timeline.filter((e) => e.type === 'ticket.survey_answered'))
    expect(answers).toHaveLength(3)
    expect(kpis).toMatchObject({ tickets: 3, csatAnswers: 3, slaMetPercent: 100, csatPercent: 100 })
    expect(lines).toContain('KPIs of this run (README § KPIs defines each):')
    expect(lines.filter((line) => line.startsWith('▶ '))).toHaveLength(3)
    // The CRM's stand-in hears of each ticket's creation and resolution, every signature good (issue 18).
    const heard = () => lines.filter((line) => line.startsWith('webhook '))
    await waitFor(() => heard().length >= 6, { timeoutMs: 30_000, what: 'six webhook deliveries' })
    expect(
      heard()
        .map((line) => line.split(/\s+/)[1])
        .sort(),
    ).toEqual([...Array(3).fill('ticket.created'), ...Array(3).fill('ticket.resolved')])
    expect(heard().filter((line) => line.includes('BAD SIGNATURE'))).toEqual([])
    // The WhatsApp notice is narrated like the SMS ones, its number masked.
    expect(lines).toContainEqual(
      expect.stringMatching(/↳ whatsapp to whatsapp:\+33•{7}02: \[vigie\] Lounge too hot/),
    )
  })
})

/** The kind of a message from its text: offers, the customers' four notices, calls. */
function kindOf(body: string): string {
  if (body.startsWith('<?xml') || body.includes('<Response>')) return 'call'
  if (/Reply 1 \(not at all\)|Répondez de 1/.test(body)) return 'survey'
  if (/Répondez 1|Reply 1/.test(body)) return 'offer'
  if (/en route|on the way|est en route/.test(body) && !/détecté|spotted|detected/.test(body)) return 'eta'
  if (/réglé|resolved|fixed|sorted/.test(body)) return 'all-clear'
  return 'notice'
}
