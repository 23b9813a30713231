import { createHash } from 'node:crypto'
import {
  createFleet,
  createMqttTransport,
  createRandom,
  createTechnicianSim,
  createVigieClient,
  type ScenarioName,
  simulatableDevices,
} from '../simulators/index.ts'
import type { StoryContext } from './run-demo.ts'

/** One moment of the story: at this time from the start, say this, and start this fault. */
export type Beat = { atMs: number; say: string; scenario: ScenarioName; target: string }

// Issue 7's story on the demo site: a lounge gets hot, a door is forced, an AED is taken.
export const airportBeats: readonly Beat[] = [
  {
    atMs: 10_000,
    say: 'A lounge gets hot: the air conditioning of the lounges fails by temp-lounge-2 (rule: above 26 °C for 60 s)',
    scenario: 'device-heat',
    target: 'temp-lounge-2',
  },
  {
    atMs: 90_000,
    say: 'A door is forced at gate 2: it opens with no badge',
    scenario: 'door-forced',
    target: 'door-gate-2',
  },
  {
    atMs: 150_000,
    say: 'An AED is taken from its cabinet at the security checkpoint (an emergency nearby)',
    scenario: 'aed-taken',
    target: 'aed-security-1',
  },
]

export type AirportStoryOptions = {
  seed?: string
  /** Story time per real time: 10 plays the five minutes in thirty seconds (the site's durations must follow). */
  speed?: number
  beats?: readonly Beat[]
  /** Give up waiting for the tickets to close after this much story time. */
  deadlineMs?: number
}

const surveyQuestion = /Reply 1 \(not at all\) to 5|Répondez de 1/

/**
 * The demo's story over the real service: the whole fleet on real MQTT connections, technicians who
 * answer by SMS, walk over and fix, and customers who answer the survey. Ends once every beat's ticket
 * is resolved and surveyed, or at the deadline.
 */
export function airportStory({
  seed = 'cdg-t2',
  speed = 1,
  beats = airportBeats,
  deadlineMs = 420_000,
}: AirportStoryOptions = {}) {
  return async ({ config, httpUrl, mqttPort, adminKey, standIns, say, stopping, atStop }: StoryContext) => {
    const { settings, site } = config
    const started = Date.now()
    const realMs = (storyMs: number) => storyMs / speed
    let stopped = false
    void stopping.then(() => {
      stopped = true
    })
    const until = (storyMs: number) =>
      Promise.race([
        stopping,
        new Promise<void>((resolve) =>
          setTimeout(resolve, Math.max(0, started + realMs(storyMs) - Date.now())),
        ),
      ])

    const { devices, hashedOnly } = simulatableDevices(site.devices)
    if (hashedOnly.length > 0) say(`(${hashedOnly.length} devices have only a secretHash and stay silent)`)
    const fleet = createFleet({
      sites: site.sites,
      devices,
      seed,
      // A reading every 5 s of story time: a fault shows within seconds, as on a live floor.
      pace: { readingEveryMs: realMs(5_000), heartbeatEveryMs: realMs(60_000) },
      transport: createMqttTransport({ url: `mqtt://127.0.0.1:${mqttPort}` }),
    })
    const client = {
      apiUrl: httpUrl,
      publicUrl: settings.publicUrl,
      apiKey: adminKey,
      twilioAuthToken: settings.twilioAuthToken ?? '',
      twilioAccountSid: settings.twilioAccountSid,
      twilioNumber: settings.twilioFrom,
    }
    const technicians = createTechnicianSim({
      ...client,
      seed,
      // Technicians walk and fix twice as fast as in life, so the loop closes inside the story.
      timeScale: 2 * speed,
      reactionMs: [8_000, 30_000],
      repairMs: [40_000, 90_000],
      repair: (ticket) => {
        fleet.endScenariosOn({ device: ticket.device, zone: ticket.zone })
      },
    })
    const vigie = createVigieClient(client)
    const read = async <T>(path: string): Promise<T> => {
      const res = await fetch(`${httpUrl}${path}`, { headers: { authorization: `Bearer ${adminKey}` } })
      return (await res.json()) as T
    }
    type Listed = { id: string; device: string | null; status: string; rule: string }
    const notifiesCustomers = new Set(site.rules.filter((r) => r.notifyCustomers).map((r) => r.id))
    let resolvedSince: number | undefined
    async function storyDone(targets: Set<string>): Promise<boolean> {
      const ours = (await read<{ items: Listed[] }>('/api/tickets?limit=200')).items.filter(
        (t) => t.device !== null && targets.has(t.device),
      )
      if (new Set(ours.map((t) => t.device)).size < targets.size) return false
      if (!ours.every((t) => t.status === 'resolved' || t.status === 'closed')) return false
      resolvedSince ??= Date.now()
      const { items } = await read<{ items: { ticket: string | null; template: string; status: string }[] }>(
        '/api/notifications?limit=500',
      )
      // The notifier has taken each customer-facing resolution in: its all-clears exist, sent or held.
      const customerFacing = ours.filter((t) => notifiesCustomers.has(t.rule))
      if (customerFacing.some((t) => !items.some((n) => n.ticket === t.id && n.template === 'all-clear')))
        return false
      // A queued all-clear is about to go, or held by quiet hours: those are waited for a minute of story time.
      const queued = items.some((n) => n.template === 'all-clear' && n.status === 'queued')
      if (queued && Date.now() < resolvedSince + realMs(60_000)) return false
      // Messages held by quiet hours are not waited for: only what went out counts.
      const out = (template: string) =>
        items.filter((n) => n.template === template && (n.status === 'sent' || n.status === 'delivered'))
          .length
      if (out('survey') < out('all-clear')) return false
      const timelines = await Promise.all(
        ours.map((t) => read<{ timeline: { type: string }[] }>(`/api/tickets/${t.id}`)),
      )
      const answers = timelines.flatMap((t) => t.timeline).filter((e) => e.type === 'ticket.survey_answered')
      return answers.length >= out('survey')
    }
    const random = createRandom(seed, 'surveys')
    // A customer asked the survey question answers it a little later, from their phone.
    async function answer(message: { to: string; sid: string }, score: string) {
      // vigie files the answer once it has recorded the question as sent: until then, ask again.
      for (let attempt = 0; attempt < 20 && !stopped; attempt++) {
        await Promise.race([stopping, new Promise<void>((resolve) => setTimeout(resolve, realMs(5_000)))])
        const sid = `SM${createHash('sha256').update(`survey:${message.sid}:${attempt}`).digest('hex').slice(0, 32)}`
        const reply = await vigie
          .replyBySms({ from: message.to, body: score, messageSid: sid })
          .catch(() => null)
        if (reply?.text.includes('Thank you')) return
      }
    }
    const unlisten = standIns?.onMessage((message) => {
      // WhatsApp answers come back on the SMS webhook, from the whatsapp: address.
      if (!['sms', 'whatsapp'].includes(message.channel) || !surveyQuestion.test(message.body)) return
      void answer(message, random.next() < 0.8 ? '5' : '4')
    })

    fleet.start()
    await technicians.start()
    say(
      `the fleet: ${devices.length} devices on MQTT; ${site.technicians.length} technicians on their phones`,
    )
    try {
      for (const beat of beats) {
        await until(beat.atMs)
        if (stopped) return
        say('')
        say(`▶ ${beat.say}`)
        fleet.startScenario(beat.scenario, { target: beat.target })
      }
      // Done when each beat's ticket is resolved, each all-clear sent has had its survey, and each survey its answer.
      const targets = new Set(beats.map((b) => b.target))
      while (!stopped && Date.now() < started + realMs(deadlineMs)) {
        if (await storyDone(targets)) break
        await Promise.race([stopping, new Promise<void>((resolve) => setTimeout(resolve, 500))])
      }
    } finally {
      // The airport lives on after the story, until the demo stops: a fleet gone quiet would raise alarms.
      atStop(async () => {
        unlisten?.()
        await technicians.close()
        await fleet.close()
      })
    }
  }
}
