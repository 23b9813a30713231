import { createHash } from 'node:crypto'
import WebSocket from 'ws'
import { type Clock, systemClock } from './clock.ts'
import { createRandom, type Random } from './random.ts'
import { SimulatorError } from './simulator-error.ts'
import {
  createVigieClient,
  liveEventSchema,
  type OfferedTicket,
  type TechnicianView,
  type VigieClientOptions,
} from './vigie-client.ts'
import { walkSteps } from './walk.ts'

export type TechnicianStep = {
  technician: string
  ticket: string
  step: 'offered' | 'accepted' | 'en-route' | 'moved' | 'on-site' | 'repaired' | 'resolved' | 'gave-up'
  detail?: string
}

export type TechnicianSimOptions = VigieClientOptions & {
  seed: string
  clock?: Clock
  /** Simulated time per real time: 60 walks a five-minute trip in five seconds. */
  timeScale?: number
  walkKmh?: number
  /** Simulated time between two position updates on the way. */
  stepMs?: number
  /** Simulated time from the offer to the reply, and from arrival to the fix, drawn per ticket. */
  reactionMs?: readonly [number, number]
  repairMs?: readonly [number, number]
  /** Real time between two looks at the offered tickets, for offers made before /ws was open. */
  pollMs?: number
  /** Only these technicians are played (default: all). */
  technicians?: readonly string[]
  /** Ends the simulated fault (the fleet scenario's `end`) before the ticket is resolved. */
  repair?: (ticket: OfferedTicket) => void | Promise<void>
  onStep?: (step: TechnicianStep) => void
}

/**
 * Technicians who answer every offer the way a phone would (a signed SMS reply "1"), walk to the work,
 * say en route and on site, fix the fault and resolve: the loop closes without a person.
 */
export function createTechnicianSim({
  seed,
  clock = systemClock(),
  timeScale = 1,
  walkKmh = 5,
  stepMs = 15_000,
  reactionMs = [10_000, 60_000],
  repairMs = [60_000, 300_000],
  pollMs = 2_000,
  technicians: only,
  repair = () => {},
  onStep = () => {},
  ...clientOptions
}: TechnicianSimOptions) {
  if (!(timeScale > 0))
    throw new SimulatorError({ code: 'SIM_BAD_OPTIONS', message: 'timeScale must be above 0' })
  const client = createVigieClient(clientOptions)
  const randoms = new Map<string, Random>()
  const seen = new Set<string>()
  const queues = new Map<string, Promise<void>>()
  const positions = new Map<string, TechnicianView['position']>()
  let roster = new Map<string, TechnicianView>()
  let socket: WebSocket | null = null
  let cancelPoll = () => {}
  let closed = false

  const waits = new Set<() => void>()
  // Waits end early on close, so closing never sits out a repair of several simulated minutes.
  const simulated = (ms: number) =>
    new Promise<void>((resolve) => {
      if (closed) return resolve()
      const stop = () => {
        waits.delete(stop)
        cancel()
        resolve()
      }
      const cancel = clock.schedule(clock.now() + ms / timeScale, stop)
      waits.add(stop)
    })
  const randomOf = (technician: string) => {
    let random = randoms.get(technician)
    if (!random) {
      random = createRandom(seed, `technician:${technician}`)
      randoms.set(technician, random)
    }
    return random
  }

  async function technician(id: string): Promise<TechnicianView | undefined> {
    if (!roster.has(id)) roster = new Map((await client.technicians()).map((t) => [t.id, t]))
    return roster.get(id)
  }

  async function work(ticket: OfferedTicket, who: TechnicianView) {
    const say = (step: TechnicianStep['step'], detail?: string) =>
      onStep({ technician: who.id, ticket: ticket.id, step, ...(detail ? { detail } : {}) })
    const random = randomOf(who.id)
    const reaction = random.between(reactionMs[0], reactionMs[1])
    const fixing = random.between(repairMs[0], repairMs[1])
    say('offered')
    await simulated(reaction)
    if (closed) return
    // The same ticket and technician always make the same sid: a retried reply is one reply to vigie.
    const sid = `SM${createHash('sha256').update(`${ticket.id}:${who.id}`).digest('hex').slice(0, 32)}`
    // The offer's code says which one is meant when the technician holds several: "1 4F2".
    const body = ticket.offer?.code ? `1 ${ticket.offer.code}` : '1'
    const reply = await client.replyBySms({ from: who.phone, body, messageSid: sid })
    const now = await client.ticket(ticket.id)
    if (reply.status !== 200 || now.assignee !== who.id || now.status !== 'acknowledged')
      return say('gave-up', `the offer was no longer open (${now.status})`)
    say('accepted')
    await client.act(ticket.id, 'en-route')
    say('en-route')
    const place = await client.placeOf(ticket)
    const from = positions.get(who.id) ?? who.position ?? place
    if (place && from) {
      for (const step of walkSteps({ from, to: place, speedKmh: walkKmh, stepMs })) {
        await simulated(stepMs)
        if (closed) return
        await client.moveTo(who.id, step)
        positions.set(who.id, step)
        say('moved', `${step.lat},${step.lon}`)
      }
    }
    await client.act(ticket.id, 'on-site')
    say('on-site')
    await simulated(fixing)
    if (closed) return
    await repair(ticket)
    say('repaired')
    await client.act(ticket.id, 'resolve', `Fixed on site by ${who.name} (simulated).`)
    say('resolved')
  }

  function offered(ticket: OfferedTicket) {
    const id = ticket.offer?.technician
    if (closed || !id || ticket.status !== 'assigned' || (only && !only.includes(id))) return
    const key = `${ticket.id}:${id}`
    if (seen.has(key)) return
    seen.add(key)
    // One job at a time per technician, in the order the offers came.
    const previous = queues.get(id) ?? Promise.resolve()
    const next = previous.then(async () => {
      const who = await technician(id)
      if (!who)
        return onStep({ technician: id, ticket: ticket.id, step: 'gave-up', detail: 'unknown technician' })
      await work(ticket, who).catch((error: unknown) =>
        onStep({
          technician: id,
          ticket: ticket.id,
          step: 'gave-up',
          detail: error instanceof Error ? error.message : String(error),
        }),
      )
    })
    queues.set(id, next)
  }

  function listen() {
    if (closed) return
    const live = new WebSocket(client.liveUrl, { headers: { authorization: client.authorization } })
    socket = live
    live.on('message', (data) => {
      try {
        const event = liveEventSchema.safeParse(JSON.parse(String(data)))
        if (event.success && event.data.type === 'ticket.offered' && event.data.ticket)
          offered(event.data.ticket)
      } catch {
        // Not JSON: nothing this simulator acts on.
      }
    })
    live.on('error', () => {})
    // The poll covers the gap; the socket comes back a second later.
    live.on('close', () => {
      if (!closed) clock.schedule(clock.now() + 1_000, listen)
    })
  }

  async function poll() {
    if (closed) return
    try {
      for (const ticket of await client.offeredTickets()) offered(ticket)
    } catch {
      // vigie not answering for a moment: the next poll tries again.
    }
    if (!closed) cancelPoll = clock.schedule(clock.now() + pollMs, () => void poll())
  }

  return {
    /** Opens the live feed and starts looking at offers already out. */
    start: async () => {
      listen()
      await poll()
    },
    /** Stops taking offers and waits for the jobs under way to stop at their next step. */
    close: async () => {
      closed = true
      cancelPoll()
      for (const stop of [...waits]) stop()
      socket?.close()
      await Promise.allSettled(queues.values())
    },
  }
}

export type TechnicianSim = ReturnType<typeof createTechnicianSim>
