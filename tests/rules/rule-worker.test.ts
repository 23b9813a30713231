import type { Redis } from 'ioredis'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Device, loadConfig, type Rule, ruleSchema } from '../../config/index.ts'
import { type Clock, systemClock } from '../../domain/index.ts'
import { createIngest, type Ingest, shardOf } from '../../ingest/index.ts'
import { createRuleWorker } from '../../rules/index.ts'
import { createLogger, openClient } from '../../service/index.ts'
import { createManualClock } from '../support/manual-clock.ts'
import { openTestRedis, testRedisUrl } from '../support/redis.ts'
import { waitFor } from '../support/wait-for.ts'

const { site } = loadConfig({ env: {} })
const log = createLogger({ level: 'silent' })
const shards = 4
const devices: Device[] = [
  { id: 'door-1', kind: 'door', site: 'cdg-t2', zone: 't2-gates', secret: 'secret-door-1' },
  { id: 'temp-1', kind: 'temperature', site: 'cdg-t2', zone: 't2-lounges', secret: 'secret-temp-1' },
]
// The demo's rules, with durations short enough for a test.
const rules: Rule[] = [
  ruleSchema.parse({
    id: 'door-forced',
    match: { kind: 'door' },
    condition: { unauthorised: true },
    severity: 'critical',
  }),
  ruleSchema.parse({
    id: 'hot',
    match: { kind: 'temperature' },
    condition: { field: 'celsius', above: 26, clearBelow: 25.5 },
    for: '1500ms',
    severity: 'major',
  }),
  // Matches door-1 only once it is moved to the lounges.
  ruleSchema.parse({
    id: 'lounge-door-forced',
    match: { kind: 'door', zone: 't2-lounges' },
    condition: { unauthorised: true },
    severity: 'major',
  }),
  ruleSchema.parse({
    id: 'silent',
    match: { kind: 'door' },
    condition: { silentFor: '1s' },
    severity: 'minor',
  }),
]

let redis: Redis
let prefix: string
let ingest: Ingest
type WorkerHandle = {
  incidents: ReturnType<typeof createRuleWorker>['incidents']
  tickets: ReturnType<typeof createRuleWorker>['tickets']
  close: () => Promise<void>
}
const workers: WorkerHandle[] = []

function startWorker({
  deviceOf = (id: string) => ingest.registry.get(id),
  clock = systemClock,
}: {
  deviceOf?: (id: string) => ReturnType<Ingest['registry']['get']>
  clock?: Clock
} = {}): Promise<WorkerHandle> {
  return openClient(testRedisUrl(), 5000).then((connection) => {
    const worker = createRuleWorker({
      clock,
      redis: connection,
      prefix,
      rules,
      sites: site.sites,
      deviceOf,
      log: {
        shards,
        shardKey: ingest.keys.shard,
        shardOf: (id) => shardOf(id, shards),
        lastSeenKey: ingest.keys.lastSeen,
        devicesVersionKey: ingest.keys.devicesVersion,
      },
      logger: log,
      // Nobody to dispatch to: every ticket escalates at once, which keeps these tests about rules.
      technicians: [],
      dispatch: site.dispatch,
      sla: site.sla,
      autoResolveAfterClear: 500,
      leaseMs: 1500,
      blockMs: 50,
      sweepMs: 100,
    })
    worker.start()
    let closed = false
    const handle = {
      incidents: worker.incidents,
      tickets: worker.tickets,
      close: async () => {
        if (closed) return
        closed = true
        await worker.close()
        await connection.quit()
      },
    }
    workers.push(handle)
    return handle
  })
}

const send = (device: string, reading: Record<string, unknown>, receivedAt = Date.now()) =>
  ingest.accept({
    topic: `devices/${device}/telemetry`,
    payload: Buffer.from(JSON.stringify(reading)),
    receivedAt,
  })

beforeEach(async () => {
  ;({ redis, prefix } = await openTestRedis())
  ingest = createIngest({
    clock: systemClock,
    redis,
    settings: {
      redisPrefix: prefix,
      logShards: shards,
      readingsRetention: 10_000,
      deviceReadingsRetention: 100,
      deadLetterRetention: 100,
    },
    log,
  })
  await ingest.registry.seed(devices)
})
afterEach(async () => {
  for (const worker of workers.splice(0)) await worker.close()
  await redis.quit()
})

describe('the rule worker', () => {
  it('reads a batch again when its handling failed before its end, instead of leaving it pending (issue 16)', async () => {
    let lookups = 0
    const worker = await startWorker({
      // The registry fails once, as Redis does in a failover: the batch stops before any reading is evaluated.
      deviceOf: async (id) => {
        if (++lookups === 1) throw new Error('registry unreachable')
        return ingest.registry.get(id)
      },
    })
    await send('door-1', { type: 'door', open: true })
    await waitFor(async () => (await worker.incidents.active('door-forced:door-1')) ?? undefined, {
      what: 'the reading evaluated on the batch read again',
    })
    expect(lookups).toBeGreaterThanOrEqual(2)
    const shard = ingest.keys.shard(shardOf('door-1', shards))
    await waitFor(async () => (await redis.xpending(shard, 'rules'))[0] === 0, {
      what: 'the entry acknowledged',
    })
  })

  it('judges a device by where the registry now puts it, a tick after it moved', async () => {
    const worker = await startWorker()
    await send('door-1', { type: 'door', open: true })
    await waitFor(async () => await worker.incidents.active('door-forced:door-1'), { what: 'the gate rule' })
    expect(await worker.incidents.active('lounge-door-forced:door-1')).toBeNull()

    await ingest.registry.seed([{ ...(devices[0] as Device), zone: 't2-lounges' }])
    // A reading may still be judged by the old place until the worker's next tick: send until one is not.
    const moved = await waitFor(
      async () => {
        await send('door-1', { type: 'door', open: true })
        return (await worker.incidents.active('lounge-door-forced:door-1')) ?? undefined
      },
      { what: 'the lounge rule, once the door moved' },
    )
    expect(moved.rule).toBe('lounge-door-forced')
  })

  it('opens one incident for a door forced 50 times over, updating it each time', async () => {
    const worker = await startWorker()
    for (let i = 0; i < 50; i++) await send('door-1', { type: 'door', open: true })
    const incident = await waitFor(
      async () => {
        const active = await worker.incidents.active('door-forced:door-1')
        return active?.count === 50 ? active : undefined
      },
      { what: '50 updates of one incident' },
    )
    expect(incident.status).toBe('active')
    expect((await worker.incidents.list(100)).filter((i) => i.rule === 'door-forced')).toHaveLength(1)
  })

  it('fires a for: rule on time even when the worker restarts during the period', async () => {
    const clock = createManualClock()
    const first = await startWorker({ clock })
    await send('temp-1', { type: 'temperature', celsius: 27 }, clock.now())
    await waitFor(
      async () => (await redis.zcard(`${prefix}rule-timers:${shardOf('temp-1', shards)}`)) === 1,
      { what: 'the timer' },
    )
    await first.close()
    const second = await startWorker({ clock })
    // The period ends by the clock both workers read, while the second holds the timer.
    clock.advance(1500)
    const [incident] = await waitFor(
      async () => {
        const list = (await second.incidents.list(10)).filter((i) => i.rule === 'hot')
        return list.length ? list : undefined
      },
      { what: 'the hot incident' },
    )
    expect(incident).toMatchObject({
      correlationKey: 'hot:temp-1',
      status: 'active',
      severity: 'major',
      zone: 't2-lounges',
    })
    // On time: opened exactly when the condition had held for 1.5 s, whoever held the timer then.
    const [reading] = await ingest.readings.recent('temp-1', 1)
    expect(Date.parse(incident?.openedAt ?? '') - Date.parse(reading?.ts ?? '')).toBe(1500)
  })

  it('does not fire a for: rule cut short, and clears an incident past the clear level', async () => {
    const worker = await startWorker()
    await send('temp-1', { type: 'temperature', celsius: 27 })
    await send('temp-1', { type: 'temperature', celsius: 25.9 })
    await send('temp-1', { type: 'temperature', celsius: 27 })
    const [incident] = await waitFor(
      async () => {
        const list = await worker.incidents.list(10)
        return list.length ? list : undefined
      },
      { what: 'the incident after the second rise' },
    )
    await send('temp-1', { type: 'temperature', celsius: 25 })
    await waitFor(async () => (await worker.incidents.get(incident?.id ?? ''))?.status === 'cleared', {
      what: 'cleared',
    })
    expect(await worker.incidents.list(10)).toHaveLength(1)
  })

  it('finds a silent device by sweeping last-seen times', async () => {
    const worker = await startWorker()
    await send('door-1', { type: 'door', open: false })
    const [incident] = await waitFor(
      async () => {
        const list = (await worker.incidents.list(10)).filter((i) => i.rule === 'silent')
        return list.length ? list : undefined
      },
      { what: 'the silence incident' },
    )
    expect(incident).toMatchObject({ device: 'door-1', status: 'active' })
  })

  it('makes one incident when two workers race', async () => {
    await Promise.all([startWorker(), startWorker()])
    await send('door-1', { type: 'door', open: true })
    const worker = workers[0] as WorkerHandle
    await waitFor(async () => (await worker.incidents.list(10)).some((i) => i.rule === 'door-forced'), {
      what: 'the incident',
    })
    await send('door-1', { type: 'door', open: true })
    await waitFor(async () => (await worker.incidents.active('door-forced:door-1'))?.count === 2, {
      what: 'the update',
    })
    expect((await worker.incidents.list(10)).filter((i) => i.rule === 'door-forced')).toHaveLength(1)
  })
})

describe('tickets', () => {
  it('opens one ticket per incident with its SLA, and resolves it once the incident stayed clear', async () => {
    const worker = await startWorker()
    await send('door-1', { type: 'door', open: true })
    const [ticket] = await waitFor(
      async () => {
        const list = await worker.tickets.list({ limit: 10, rule: 'door-forced' })
        return list.length ? list : undefined
      },
      { what: 'the ticket' },
    )
    expect(ticket).toMatchObject({ status: 'open', severity: 'critical', device: 'door-1', zone: 't2-gates' })
    expect(Date.parse(ticket?.slaDueAt ?? '') - Date.parse(ticket?.createdAt ?? '')).toBe(15 * 60_000)

    await send('door-1', { type: 'door', open: false })
    const resolved = await waitFor(
      async () => {
        const t = await worker.tickets.get(ticket?.id ?? '')
        return t?.status === 'resolved' ? t : undefined
      },
      { what: 'the automatic resolution' },
    )
    expect(resolved.timeline.map((e) => [e.type, e.by, e.detail])).toEqual([
      ['ticket.created', 'telemetry', 'door-forced on door-1'],
      ['ticket.escalated', 'dispatch', 'no technician on shift; to Duty manager'],
      ['ticket.incident_cleared', 'telemetry', expect.any(String)],
      ['ticket.resolved', 'telemetry', 'verified by telemetry'],
    ])
  })

  it('keeps the ticket open when the incident comes back during verification, with no second ticket', async () => {
    const worker = await startWorker()
    await send('door-1', { type: 'door', open: true })
    await send('door-1', { type: 'door', open: false })
    await send('door-1', { type: 'door', open: true })
    const [ticket] = await waitFor(
      async () => {
        const list = await worker.tickets.list({ limit: 10, rule: 'door-forced' })
        return list[0]?.timeline.some((e) => e.type === 'ticket.incident_joined') ? list : undefined
      },
      { what: 'the incident joining its ticket' },
    )
    // Past the 500 ms verification period the ticket is still open: the incident is active again.
    await waitFor(
      async () => (await redis.zcard(`${prefix}rule-timers:${shardOf('door-1', shards)}`)) === 0,
      { what: 'the resolution check' },
    )
    expect((await worker.tickets.get(ticket?.id ?? ''))?.status).toBe('open')
    expect(await worker.tickets.list({ limit: 10, rule: 'door-forced' })).toHaveLength(1)
  })
})
