import type { Redis } from 'ioredis'
import { notificationKeys } from '../notifier/index.ts'
import { ruleKeys, vigieEventSchema } from '../rules/index.ts'
import { probeCelsius } from './loop-world.ts'

export type Spread = { count: number; p50: number; p99: number; max: number }

/** Nearest-rank percentiles of milliseconds; NaN when there is nothing to rank. */
export function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b)
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
  return sorted.length === 0
    ? { count: 0, p50: Number.NaN, p99: Number.NaN, max: Number.NaN }
    : {
        count: sorted.length,
        p50: rank(50) ?? Number.NaN,
        p99: rank(99) ?? Number.NaN,
        max: sorted.at(-1) ?? 0,
      }
}

export type ProbeSchedule = ReturnType<typeof createProbeSchedule>

/**
 * Turns `perSecond` of the load's readings into probes: a reading above the rule's threshold, each on a
 * device never probed before in this vigie, so each opens a ticket of its own. Only probes sent inside a
 * measured window are timed.
 */
export function createProbeSchedule({
  perSecond,
  probed,
  now = Date.now,
}: {
  perSecond: number
  /** Devices already probed in this vigie, shared by the schedules of its windows. */
  probed: Set<string>
  now?: () => number
}) {
  const intervalMs = 1000 / perSecond
  let nextAt = 0
  let measuring = false
  const sent = new Map<string, number>()
  let total = 0

  return {
    /** For the load generator: the probe's payload when one is due and this device is fresh. */
    payloadFor: (deviceId: string, seq: number): string | undefined => {
      const at = now()
      if (at < nextAt || probed.has(deviceId)) return undefined
      probed.add(deviceId)
      total++
      // A schedule late by a whole interval starts again from now instead of bursting to catch up.
      nextAt = (at - nextAt >= intervalMs ? at : nextAt) + intervalMs
      if (measuring) sent.set(deviceId, at)
      return `{"type":"temperature","celsius":${probeCelsius},"seq":${seq}}`
    },
    openWindow: () => {
      measuring = true
    },
    closeWindow: () => {
      measuring = false
    },
    /** Device → publish time (epoch ms) of the probes sent in the window. */
    sentInWindow: () => sent,
    /** Probes sent, warm-up included. */
    total: () => total,
  }
}

export type ProbeLatencies = {
  probes: number
  /** Reading published → its ticket offered to a technician (the offer's event written). */
  toOffer: Spread
  /** Reading published → the first notification of its ticket queued (its record opened). */
  toNotification: Spread
}

export type StepTally = { tickets: number; offers: number; notifications: number; eventsAfter: string }

/** The events stream's last id now: where a step's reading of it starts. */
export async function eventsCursor(redis: Redis, prefix: string): Promise<string> {
  const [last] = await redis.xrevrange(ruleKeys(prefix).events, '+', '-', 'COUNT', 1)
  return last?.[0] ?? '0-0'
}

/**
 * Reads what vigie wrote after `after`: each probe's first `ticket.offered` event (its stream id is the
 * Redis server's clock, this machine's, as is the publish time) and its ticket's first notification (the
 * store files each by the time its record was opened). Waits for every probe until the deadline.
 */
export async function collectProbeLatencies({
  redis,
  prefix,
  sent,
  after,
  timeoutMs,
}: {
  redis: Redis
  prefix: string
  sent: Map<string, number>
  after: string
  timeoutMs: number
}): Promise<ProbeLatencies & { tally: StepTally }> {
  const events = ruleKeys(prefix).events
  const notifications = notificationKeys(prefix)
  const offered = new Map<string, { at: number; ticket: string }>()
  const notifiedAt = new Map<string, number>()
  const tickets = new Set<string>()
  let offers = 0
  let cursor = after
  const deadline = Date.now() + timeoutMs
  const pause = () => new Promise((resolve) => setTimeout(resolve, 200))

  const readEvents = async () => {
    for (;;) {
      const entries = await redis.xrange(events, `(${cursor}`, '+', 'COUNT', 1000)
      for (const [id, fields] of entries) {
        cursor = id
        const parsed = vigieEventSchema.safeParse(JSON.parse(fields[1] ?? 'null'))
        if (!parsed.success || !('ticket' in parsed.data)) continue
        const { type, ticket } = parsed.data
        if (type === 'ticket.created') tickets.add(ticket.id)
        if (type !== 'ticket.offered') continue
        offers++
        const device = ticket.device ?? ''
        if (sent.has(device) && !offered.has(device))
          offered.set(device, { at: Number(id.split('-')[0]), ticket: ticket.id })
      }
      if (entries.length < 1000) return
    }
  }
  const readNotifications = async () => {
    const waiting = [...offered].filter(([device]) => !notifiedAt.has(device))
    const pipeline = redis.pipeline()
    for (const [, { ticket }] of waiting) pipeline.zrange(notifications.ofTicket(ticket), 0, 0, 'WITHSCORES')
    const results = (await pipeline.exec()) ?? []
    waiting.forEach(([device], i) => {
      const score = (results[i]?.[1] as string[] | undefined)?.[1]
      if (score !== undefined) notifiedAt.set(device, Number(score))
    })
  }

  do {
    await readEvents()
    await readNotifications()
    if (notifiedAt.size >= sent.size) break
    await pause()
  } while (Date.now() < deadline)

  // Every notification the step's tickets asked for, counted by their records.
  const counting = redis.pipeline()
  for (const ticket of tickets) counting.zcard(notifications.ofTicket(ticket))
  const counted = ((await counting.exec()) ?? []).reduce((sum, [, n]) => sum + Number(n ?? 0), 0)
  const since = (device: string, at: number) => at - (sent.get(device) ?? at)
  return {
    probes: sent.size,
    toOffer: spread([...offered].map(([device, { at }]) => since(device, at))),
    toNotification: spread([...notifiedAt].map(([device, at]) => since(device, at))),
    tally: { tickets: tickets.size, offers, notifications: counted, eventsAfter: cursor },
  }
}
