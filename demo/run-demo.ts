import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import WebSocket from 'ws'
import type { Config } from '../config/index.ts'
import { maskEmail, maskPersonalText } from '../domain/index.ts'
import { type Kpis, vigieEventSchema } from '../rules/index.ts'
import { type RunningService, startService } from '../service/index.ts'
import { type MessageStandIns, type StandInMessage, startMessageStandIns } from './message-stand-ins.ts'
import { kpiReport, narrate } from './narration.ts'
import { startWebhookReceiver } from './webhook-receiver.ts'

/** What a story gets to play with: the running service, its address, an admin key, the stand-ins. */
export type StoryContext = {
  config: Config
  httpUrl: string
  mqttPort: number
  adminKey: string
  standIns: MessageStandIns | undefined
  say: (line: string) => void
  /** Resolves when the demo is being stopped: a story's waits end early on it. */
  stopping: Promise<void>
  /** Runs this when the demo stops, before the service: what the story leaves running after its end. */
  atStop: (cleanup: () => Promise<void>) => void
}

export type DemoOptions = {
  config: Config
  log: Logger
  adminKey: string
  /** Where the story's lines go (stdout in the demo, an array in the test). */
  print: (line: string) => void
  story?: (context: StoryContext) => Promise<void>
}

const preview = (message: StandInMessage) => {
  const to = message.channel === 'email' ? maskEmail(message.to) : maskPersonalText(message.to)
  const text =
    message.channel === 'email'
      ? (/^Subject: (.*)$/m.exec(message.body)?.[1] ?? '(no subject)')
      : message.channel === 'voice'
        ? 'a call'
        : message.body
  return `          ↳ ${message.channel} to ${to}: ${text.length > 90 ? `${text.slice(0, 89)}…` : text}`
}

/**
 * vigie on the demo site with local stand-ins for Twilio and SMTP (unless real ones are configured), the
 * story's every event narrated from /ws, and the KPIs at the end. Nothing inside vigie is stubbed.
 */
export async function runDemo({ config, log, adminKey, print, story }: DemoOptions) {
  const { settings } = config
  const needStandIns = !settings.twilioAccountSid && !settings.smtpUrl
  const standIns = needStandIns ? await startMessageStandIns({ log }) : undefined
  if (standIns) {
    Object.assign(settings, {
      twilioAccountSid: standIns.accountSid,
      twilioAuthToken: standIns.authToken,
      twilioFrom: '+33100000000',
      twilioWhatsappFrom: '+33100000000',
      twilioApiUrl: standIns.twilioUrl,
      smtpUrl: standIns.smtpUrl,
    })
  }
  settings.adminKey = adminKey
  // A CRM's stand-in (issue 18): it checks each signature and prints the tickets it hears of.
  const receiver = standIns
    ? await startWebhookReceiver({ secret: randomBytes(24).toString('hex'), print })
    : undefined
  if (receiver)
    config.site.webhooks.push({
      id: 'demo-crm',
      url: receiver.url,
      secret: receiver.secret,
      events: ['ticket.created', 'ticket.resolved'],
    })
  let service: RunningService
  try {
    service = await startService({ config, log })
  } catch (err) {
    await standIns?.close()
    await receiver?.close()
    throw err
  }
  const httpUrl = service.httpUrl ?? settings.publicUrl
  const unlisten = standIns?.onMessage((message) => print(preview(message)))

  const rules = new Map(config.site.rules.map((r) => [r.id, r.name ?? r.id]))
  const people = new Map(config.site.technicians.map((t) => [t.id, t.name]))
  const names = {
    rule: (id: string) => rules.get(id) ?? id,
    technician: (id: string) => people.get(id) ?? id,
  }
  const live = new WebSocket(`${httpUrl.replace(/^http/, 'ws')}/ws`, {
    headers: { authorization: `Bearer ${adminKey}` },
  })
  live.on('message', (data) => {
    const parsed = vigieEventSchema.safeParse(JSON.parse(String(data)))
    const line = parsed.success ? narrate(parsed.data, names) : null
    if (line) print(line)
  })
  live.on('error', (err) => log.warn({ err }, 'demo narration lost /ws'))
  await new Promise<void>((resolve) => {
    live.once('open', () => resolve())
    live.once('error', () => resolve())
  })

  let stop: () => void = () => {}
  const stopping = new Promise<void>((resolve) => {
    stop = resolve
  })
  const kpis = async (): Promise<Kpis> => {
    const res = await fetch(`${httpUrl}/api/kpis`, { headers: { authorization: `Bearer ${adminKey}` } })
    return (await res.json()) as Kpis
  }
  const cleanups: (() => Promise<void>)[] = []
  let played: Promise<Kpis | null> = Promise.resolve(null)
  const play = () => {
    if (!story) return played
    played = (async () => {
      await story({
        config,
        httpUrl,
        mqttPort: service.mqttPort ?? settings.mqttPort,
        adminKey,
        standIns,
        say: print,
        stopping,
        atStop: (cleanup) => cleanups.push(cleanup),
      })
      const figures = await kpis()
      print('')
      print('KPIs of this run (README § KPIs defines each):')
      for (const line of kpiReport(figures)) print(`  ${line}`)
      return figures
    })()
    return played
  }

  return {
    httpUrl,
    standIns,
    /** Plays the story; resolves at its end with the KPIs it printed (null without a story). */
    play,
    close: async (reason: string) => {
      stop()
      await played.catch(() => null)
      for (const cleanup of cleanups)
        await cleanup().catch((err: unknown) => log.warn({ err }, 'demo cleanup failed'))
      unlisten?.()
      live.close()
      const clean = await service.close(reason)
      await standIns?.close()
      await receiver?.close()
      return clean
    },
  }
}
