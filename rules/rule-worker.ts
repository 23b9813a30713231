import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { Rule, Site, SiteFile, Technician } from '../config/index.ts'
import type { Clock } from '../domain/index.ts'
import { createFailedWorkLog, createLease, streamKeys } from '../streams/index.ts'
import { createDispatcher } from './dispatcher.ts'
import { evaluateTimer } from './evaluate-reading.ts'
import { createIncidentFlow, type DeviceWhere } from './incident-flow.ts'
import { createIncidentStore, type IncidentStore } from './incident-store.ts'
import { consumerGroup, ruleKeys, timerMember } from './keys.ts'
import { createMaintenanceWindows } from './maintenance-windows.ts'
import { replyAt } from './pipeline-replies.ts'
import { createReadingBatch, type ShardEntries } from './reading-batch.ts'
import { rulesFor } from './rule-matcher.ts'
import { idleState, type RuleEffect } from './rule-state.ts'
import { createRuleStateBook } from './rule-state-book.ts'
import { createTechnicianRoster } from './technician-roster.ts'
import type { TimelineCap } from './ticket-bounds.ts'
import { createTicketStore, type TicketStore } from './ticket-store.ts'
import { createZoneGroupStore } from './zone-group-store.ts'

export type RuleWorkerOptions = {
  /** A connection of its own: the worker blocks on XREADGROUP. */
  redis: Redis
  prefix: string
  rules: Rule[]
  sites: Site[]
  /** Where a device is; devices added through the API are not in the site file. */
  deviceOf: (id: string) => Promise<DeviceWhere | null>
  /** The readings log: its shard streams, the shard of a device, and the last-seen index. */
  log: {
    shards: number
    shardKey: (n: number) => string
    shardOf: (deviceId: string) => number
    lastSeenKey: string
    /** Bumped by the registry whenever a device is written. */
    devicesVersionKey: string
  }
  logger: Logger
  /** What is due (timers, offers, silence) is judged by this clock. */
  clock: Clock
  /** Technicians and dispatch settings of the site file. */
  technicians: Technician[]
  dispatch: SiteFile['dispatch']
  /** SLA by severity and the verification period before a cleared incident resolves its ticket. */
  sla: SiteFile['sla']
  autoResolveAfterClear: number
  /** TICKET_TIMELINE_MAX and TICKET_TIMELINE_MAX_BYTES; their defaults when unset. */
  timelineCap?: TimelineCap
  leaseMs?: number
  blockMs?: number
  sweepMs?: number
  /** How often due timers and offers are looked at: their precision, and a fixed cost per tick. */
  tickMs?: number
  /** After a small batch, wait this long so the next read takes a fuller one (latency for fewer round trips). */
  lingerMs?: number
}

/**
 * Evaluates the readings log. Each shard is owned by one worker at a time (a lease in Redis), so one
 * device's readings are evaluated in order by one process; a worker that dies lets its lease expire and
 * another takes its shards over, starting from the readings it had not acknowledged.
 */
export function createRuleWorker(options: RuleWorkerOptions) {
  const {
    redis,
    prefix,
    sites,
    deviceOf,
    log,
    logger,
    clock,
    leaseMs = 15_000,
    blockMs = 250,
    sweepMs = 5_000,
    tickMs = 100,
    lingerMs = 20,
  } = options
  const rules = options.rules
  const keys = ruleKeys(prefix)
  const incidents: IncidentStore = createIncidentStore({ redis, keys })
  const tickets: TicketStore = createTicketStore({
    redis,
    keys,
    sla: options.sla,
    ...(options.timelineCap && { timelineCap: options.timelineCap }),
  })
  const roster = createTechnicianRoster({ redis, keys, technicians: options.technicians })
  const dispatcher = createDispatcher({
    redis,
    keys,
    tickets,
    roster,
    world: { sites, rules: options.rules, dispatch: options.dispatch },
    placeOf: async (id) => (await placeOf(id))?.location ?? null,
  })
  const flow = createIncidentFlow({
    redis,
    rules,
    incidents,
    tickets,
    dispatcher,
    groups: createZoneGroupStore({ redis, keys }),
    maintenance: createMaintenanceWindows({ redis, keys, clock }),
    autoResolveAfterClear: options.autoResolveAfterClear,
    logger,
    clock,
  })
  const siteById = new Map(sites.map((site) => [site.id, site]))
  const book = createRuleStateBook({
    redis,
    keys,
    failedWork: createFailedWorkLog({ redis, keys: streamKeys(prefix) }),
  })
  const me = randomUUID()
  const leases = Array.from({ length: log.shards }, (_, shard) =>
    createLease({ redis, key: keys.lease(shard), ttlMs: leaseMs, owner: me }),
  )
  const owned = new Set<number>()
  const fresh = new Set<number>()
  let running = false
  // Readiness (issue 17): every shard held by someone, what was taken over replayed, the last cycle whole.
  let everyShardHeld = false
  let cycleWhole = false
  let rosterSeeded = false
  let loop: Promise<void> | undefined
  // In elapsed time (performance.now()); the first cycle renews, ticks and sweeps.
  let lastLease = Number.NEGATIVE_INFINITY
  let lastSweep = Number.NEGATIVE_INFINITY
  let lastTick = Number.NEGATIVE_INFINITY
  // Where devices are changes rarely: kept until the registry's version moves, which each tick looks at,
  // instead of one lookup per device per minute (83 a second for 5,000 devices).
  const places = new Map<string, DeviceWhere | null>()
  const shardOfKey = new Map(Array.from({ length: log.shards }, (_, shard) => [log.shardKey(shard), shard]))
  let placesVersion: string | null = null
  async function placeOf(id: string): Promise<DeviceWhere | null> {
    const cached = places.get(id)
    if (cached !== undefined) return cached
    const device = await deviceOf(id)
    places.set(id, device)
    return device
  }

  async function renewLeases(now: number) {
    let held = 0
    for (const [shard, lease] of leases.entries()) {
      const renewing = owned.has(shard)
      const got = await (renewing ? lease.renew() : lease.acquire())
      // A lease not ours that we tried to take is another worker's; one we failed to renew may be nobody's.
      if (got || !renewing) held++
      if (got !== owned.has(shard)) {
        // Another worker may have written these devices' states meanwhile: memory is read again.
        await book.flush()
        book.forget()
      }
      if (got && !owned.has(shard)) {
        await redis
          .xgroup('CREATE', log.shardKey(shard), consumerGroup, '0', 'MKSTREAM')
          .catch(() => undefined)
        fresh.add(shard)
        owned.add(shard)
        logger.info({ shard }, 'shard taken')
      } else if (!got && owned.has(shard)) {
        owned.delete(shard)
        logger.warn({ shard }, 'shard lease lost')
      }
    }
    everyShardHeld = held === leases.length
    lastLease = now
  }

  async function apply(rule: Rule, device: DeviceWhere, effects: RuleEffect[]) {
    const timers = keys.timers(log.shardOf(device.id))
    for (const effect of effects) {
      const member = timerMember.of({ kind: 'rule', rule: rule.id, device: device.id })
      if (effect.type === 'schedule') await redis.zadd(timers, effect.at, member)
      else if (effect.type === 'cancel') await redis.zrem(timers, member)
      else await flow.apply(rule, device, effect, timers)
    }
  }

  const handle = createReadingBatch({
    rules,
    book,
    places,
    placeOf,
    siteOf: (id) => siteById.get(id),
    apply,
    logger,
    now: clock.now,
  })

  /** One round trip a tick: every owned shard's due timers, the due offers and the devices' version. */
  async function onTick(now: number) {
    const shards = [...owned]
    const read = await shards
      .reduce(
        (p, shard) => p.zrangebyscore(keys.timers(shard), '-inf', now, 'LIMIT', 0, 100),
        redis.pipeline(),
      )
      .zrangebyscore(keys.offerTimers, '-inf', now, 'LIMIT', 0, 100)
      .get(log.devicesVersionKey)
      .exec()
    const version = replyAt(read, shards.length + 1) as string | null
    if (version !== placesVersion) {
      places.clear()
      placesVersion = version
    }
    for (const [i, shard] of shards.entries()) {
      for (const member of replyAt(read, i) as string[]) await onTimer(shard, member, now)
    }
    await dispatcher.expireOffers(now, replyAt(read, shards.length) as string[])
  }

  async function onTimer(shard: number, member: string, now: number) {
    const target = timerMember.read(member)
    if (target.kind === 'resolve') {
      await redis.zrem(keys.timers(shard), member)
      await flow.verifyResolution(target.correlationKey, now)
      return
    }
    const { rule: ruleId, device: deviceId } = target
    const rule = rules.find((r) => r.id === ruleId)
    const device = await placeOf(deviceId)
    await redis.zrem(keys.timers(shard), member)
    if (!rule || !device) return
    await book.load([deviceId])
    const state = book.of(deviceId).get(ruleId) ?? idleState
    const next = evaluateTimer({ state, now })
    await apply(rule, device, next.effects)
    book.set(deviceId, ruleId, next.state)
  }

  /** Silence is found by one sweep over last-seen times, not by a timer per device per reading. */
  async function sweepSilence(now: number) {
    const silentRules = rules.filter((rule) => rule.condition.kind === 'silent')
    if (silentRules.length === 0) return
    const shortest = Math.min(
      ...silentRules.map((r) => (r.condition.kind === 'silent' ? r.condition.silentFor : 0)),
    )
    const quiet = await redis.zrangebyscore(log.lastSeenKey, '-inf', now - shortest, 'WITHSCORES')
    for (let i = 0; i < quiet.length; i += 2) {
      const deviceId = quiet[i] ?? ''
      const seen = Number(quiet[i + 1])
      if (!owned.has(log.shardOf(deviceId))) continue
      const device = await placeOf(deviceId)
      if (!device) continue
      await book.load([deviceId])
      // Its readings go to failed work; the sweep goes on with the other devices.
      if (!book.readable(deviceId)) {
        logger.warn({ deviceId }, 'silence not checked: rule states unreadable')
        continue
      }
      const states = book.of(deviceId)
      for (const rule of rulesFor(silentRules, device)) {
        if (rule.condition.kind !== 'silent' || seen + rule.condition.silentFor > now) continue
        if ((states.get(rule.id) ?? idleState).phase !== 'idle') continue
        const at = seen + rule.condition.silentFor
        await apply(rule, device, [{ type: 'fire', at, value: null }])
        book.set(deviceId, rule.id, { phase: 'active', since: at, count: 1 })
      }
    }
  }

  /** Reads what the owned shards hold (blocking a while when they hold nothing); answers how many. */
  async function readShards(): Promise<number> {
    // A shard just taken over first replays what its last owner read but did not acknowledge.
    if (fresh.size > 0) await book.flush()
    for (const shard of [...fresh]) {
      await replay(shard)
      fresh.delete(shard)
    }
    const shards = [...owned]
    if (shards.length === 0) return 0
    // What the last batch changed and acknowledged rides with this read: one round trip a cycle.
    const pipeline = redis.pipeline()
    const writes = book.flushInto(pipeline)
    pipeline.xreadgroup(
      'GROUP',
      consumerGroup,
      'owner',
      'COUNT',
      200,
      'BLOCK',
      blockMs,
      'STREAMS',
      ...shards.map(log.shardKey),
      ...shards.map(() => '>'),
    )
    const replies = await pipeline.exec()
    book.checkWrites(replies, writes)
    const streams = replyAt(replies, writes) as ShardEntries | null
    const read = (streams ?? []).reduce((sum, [, entries]) => sum + entries.length, 0)
    if (read > 0) await handleOrReplay(streams ?? [])
    return read
  }

  /** The shard's pending list, all of it, a thousand entries at a time. */
  async function replay(shard: number) {
    for (let from = '0'; ; ) {
      const streams = (await redis.xreadgroup(
        'GROUP',
        consumerGroup,
        'owner',
        'COUNT',
        1000,
        'STREAMS',
        log.shardKey(shard),
        from,
      )) as ShardEntries | null
      const entries = streams?.[0]?.[1] ?? []
      if (entries.length > 0) await handleOrReplay(streams ?? [])
      if (entries.length < 1000) return
      from = entries.at(-1)?.[0] ?? from
    }
  }

  /** A batch that failed before its end (Redis, most likely) is replayed from the pending list next cycle. */
  async function handleOrReplay(streams: ShardEntries) {
    try {
      await handle(streams)
    } catch (error) {
      for (const [key] of streams) fresh.add(shardOfKey.get(key) ?? -1)
      fresh.delete(-1)
      throw error
    }
  }

  async function run() {
    while (running) {
      try {
        // Paced by elapsed time, as the lease's PX runs on Redis's clock; what is due is judged by the clock.
        const elapsed = performance.now()
        if (elapsed - lastLease > leaseMs / 3) await renewLeases(elapsed)
        const read = await readShards()
        if (read > 0 && read < 100) await new Promise<void>((resolve) => setTimeout(resolve, lingerMs))
        // Under load a cycle comes every few readings: timers and offers are looked at once per tick, not per cycle.
        if (performance.now() - lastTick >= tickMs) {
          lastTick = performance.now()
          await onTick(clock.now())
        }
        if (performance.now() - lastSweep > sweepMs) {
          await sweepSilence(clock.now())
          lastSweep = performance.now()
        }
        cycleWhole = true
        if (owned.size === 0) await new Promise<void>((resolve) => setTimeout(resolve, blockMs))
      } catch (err) {
        cycleWhole = false
        if (running) logger.error({ err }, 'rule worker cycle failed; retrying')
        await new Promise<void>((resolve) => setTimeout(resolve, blockMs))
      }
    }
  }

  let seeding: Promise<unknown> | undefined
  return {
    incidents,
    tickets,
    dispatcher,
    roster,
    start: () => {
      running = true
      // Kept, so a close waits for it rather than cutting its connection mid-write.
      seeding = roster
        .seed()
        .then(() => {
          rosterSeeded = true
        })
        .catch((err: unknown) => logger.error({ err }, 'technicians not seeded'))
      loop = run()
    },
    /** Working: its shards held (by it or another live worker), taken-over readings replayed, technicians known. */
    isReady: (): boolean => running && cycleWhole && everyShardHeld && fresh.size === 0 && rosterSeeded,
    close: async () => {
      running = false
      await loop
      await seeding
      await book.flush()
      for (const shard of owned) await leases[shard]?.release()
      owned.clear()
    },
  }
}
