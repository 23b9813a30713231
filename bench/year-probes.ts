import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import type { Redis } from 'ioredis'
import mqtt from 'mqtt'
import twilio from 'twilio'
import type { SiteFile } from '../config/index.ts'
import { ruleKeys, type TicketStore, vigieEventSchema } from '../rules/index.ts'
import { twilioPhone } from '../tests/support/twilio-phone.ts'
import { type Spread, spread } from './latency-step.ts'

export type ProbeFigures = {
  /** A reading over the threshold → its ticket offered to a technician (the event on the stream). */
  offered: Spread
  /** The offered technician texts "1 <code>" → the webhook's answer, the ticket acknowledged. */
  smsReply: Spread
  /** Probes whose reply did not acknowledge the ticket (0 expected). */
  repliesRefused: number
  stallMs: number
}

/** Doors whose door-forced key has no unfinished ticket: a door opened without a badge there opens and offers one. */
export async function probeDevices(site: SiteFile, tickets: TicketStore, count: number): Promise<string[]> {
  const chosen: string[] = []
  for (const device of site.devices) {
    if (chosen.length >= count) break
    if (device.kind !== 'door') continue
    const [latest] = (await tickets.page({ limit: 1, correlationKey: `door-forced:${device.id}` })).items
    if (!latest || ['resolved', 'closed', 'cancelled'].includes(latest.status)) chosen.push(device.id)
  }
  return chosen
}

/** Waits on the events stream for the offer (or escalation) of a ticket on `device`, after `from`. */
async function offerOf(reader: Redis, eventsKey: string, device: string, from: string, timeoutMs: number) {
  const deadline = performance.now() + timeoutMs
  let last = from
  while (performance.now() < deadline) {
    const streams = (await reader.xread('COUNT', 100, 'BLOCK', 1000, 'STREAMS', eventsKey, last)) as
      | [string, [string, string[]][]][]
      | null
    for (const [, entries] of streams ?? [])
      for (const [id, fields] of entries) {
        last = id
        const event = vigieEventSchema.safeParse(JSON.parse(fields[1] ?? 'null'))
        if (!event.success || !('ticket' in event.data) || event.data.ticket.device !== device) continue
        if (event.data.type === 'ticket.offered' || event.data.type === 'ticket.escalated') return event.data
      }
  }
  throw new Error(`no offer for ${device} within ${timeoutMs} ms`)
}

/**
 * Each probe device publishes one reading over the threshold at QoS 1; the time to its ticket's offer is
 * timed from the PUBACK's request, then the offered technician's "1" by SMS through the signed webhook.
 */
export async function runProbes({
  site,
  devices,
  secret,
  mqttPort,
  baseUrl,
  publicUrl,
  redis,
  prefix,
  authToken,
  accountSid,
  from,
  warmup = 0,
}: {
  site: SiteFile
  devices: string[]
  /** The first devices' probes are sent untimed, as each route's first requests: the path's first run compiles it. */
  warmup?: number
  secret: string
  mqttPort: number
  baseUrl: string
  publicUrl: string
  redis: Redis
  prefix: string
  authToken: string
  accountSid: string
  /** TWILIO_FROM: texts come to this number. */
  from: string
}): Promise<ProbeFigures> {
  const eventsKey = ruleKeys(prefix).events
  const twilioSide = twilioPhone({ publicUrl, authToken, accountSid, number: from })
  const reader = redis.duplicate()
  const phones = new Map(site.technicians.map((t) => [t.id, t.phone]))
  const delay = monitorEventLoopDelay({ resolution: 1 })
  const offered: number[] = []
  const replies: number[] = []
  let refused = 0
  delay.enable()
  try {
    for (const [n, device] of devices.entries()) {
      const timed = n >= warmup
      if (n === warmup) delay.reset()
      const client = await mqtt.connectAsync({
        host: '127.0.0.1',
        port: mqttPort,
        clientId: device,
        username: device,
        password: secret,
        reconnectPeriod: 0,
      })
      const [[lastId] = []] = await redis.xrevrange(eventsKey, '+', '-', 'COUNT', 1)
      const started = performance.now()
      await client.publishAsync(`devices/${device}/telemetry`, JSON.stringify({ type: 'door', open: true }), {
        qos: 1,
      })
      const event = await offerOf(reader, eventsKey, device, lastId ?? '0', 30_000)
      if (timed) offered.push(performance.now() - started)
      await client.endAsync()
      const technician = 'ticket' in event ? event.ticket.offer?.technician : undefined
      const phone = technician ? phones.get(technician) : undefined
      if (!phone) continue
      // With the offer's code, as its SMS asks when the technician holds other offers.
      const code = 'ticket' in event ? event.ticket.offer?.code : undefined
      const form = twilioSide.sms({ from: phone, body: code ? `1 ${code}` : '1' })
      const path = '/webhooks/twilio/sms'
      const signature = twilio.getExpectedTwilioSignature(authToken, `${publicUrl}${path}`, form)
      const sent = performance.now()
      const res = await fetch(`${baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
        body: new URLSearchParams(form).toString(),
      })
      const text = await res.text()
      if (!timed) continue
      replies.push(performance.now() - sent)
      if (!text.includes('is yours')) refused++
    }
  } finally {
    delay.disable()
    reader.disconnect()
  }
  return {
    offered: spread(offered),
    smsReply: spread(replies),
    repliesRefused: refused,
    stallMs: delay.max / 1e6,
  }
}
