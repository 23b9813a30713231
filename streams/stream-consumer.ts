import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { isVigieError } from '../domain/index.ts'
import { entryFields } from './entry-fields.ts'
import { type FailedWorkLog, type FailedWorkSource, reasonOf } from './failed-work.ts'

/** An entry as its handler gets it: its fields by name, and its deliveries so far, this one included. */
export type StreamEntry = { id: string; fields: Record<string, string>; deliveries: number }

/** An entry as XREADGROUP and XAUTOCLAIM answer it; null fields when it was trimmed while pending. */
type RawEntry = [id: string, fields: string[] | null]
type ReadReply = [key: string, entries: RawEntry[]][] | null

export type StreamConsumerOptions = {
  /** A connection of its own: XREADGROUP blocks it, and close() disconnects it. */
  redis: Redis
  stream: string
  group: string
  /** Who gives entries up, in the failed-work log and its counts. */
  source: FailedWorkSource
  failedWork: FailedWorkLog
  /**
   * Resolves once the entry is done; it is then acknowledged. A throw has it tried again later, a
   * STREAM_ENTRY_REJECTED error (bad input) has it kept in failed work at once.
   */
  handle: (entry: StreamEntry) => Promise<void>
  logger: Logger
  /** Unique per process by default, so that what a dead process held is told apart and claimed. */
  consumer?: string
  /** Deliveries of an entry before it is given up and kept in failed work. */
  maxAttempts?: number
  /** An entry pending this long under any consumer is taken over: its consumer is taken for dead. */
  claimIdleMs?: number
  /** A consumer idle this long with nothing pending is a process gone: its name leaves the group. */
  forgetIdleMs?: number
  /** The wait before an entry that failed here is tried again; it doubles with each delivery. */
  retryDelayMs?: number
  blockMs?: number
  count?: number
  now?: () => number
}

/** A name no other process takes: host, pid, and a random part for a pid reused after a restart. */
export function consumerName(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`
}

const entriesOf = (reply: ReadReply): RawEntry[] => reply?.[0]?.[1] ?? []

/**
 * Reads one stream in a consumer group and never acknowledges an entry it did not finish (issue 16): an
 * entry whose handler throws is tried again, then kept in the failed-work log with its reason, in the
 * same MULTI as its acknowledgement. Entries a dead consumer held are claimed once idle for
 * `claimIdleMs`, as BullMQ takes stalled jobs back. Deliveries are Redis's own count, so an entry that
 * kills every process handling it is given up too.
 */
export function createStreamConsumer(options: StreamConsumerOptions) {
  const {
    redis,
    stream,
    group,
    source,
    failedWork,
    handle,
    consumer = consumerName(),
    maxAttempts = 5,
    claimIdleMs = 60_000,
    forgetIdleMs = 3_600_000,
    retryDelayMs = 1000,
    blockMs = 1000,
    count = 100,
    now = Date.now,
  } = options
  const log = options.logger.child({ stream, consumer })
  let running = false
  let reading = false
  let loop: Promise<void> | undefined
  let nextClaim = 0
  let retryAt: number | null = null
  let wake: (() => void) | undefined
  // Why each entry failed here last: kept for its record should the next delivery give it up.
  const reasons = new Map<string, string>()

  function pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms)
      wake = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }

  /** Each entry's delivery count, from XPENDING: one round trip for the lot. */
  async function deliveriesOf(entries: RawEntry[]): Promise<Map<string, number>> {
    if (entries.length === 0) return new Map()
    const replies = await entries
      .reduce((pipeline, [id]) => pipeline.xpending(stream, group, id, id, 1), redis.pipeline())
      .exec()
    return new Map(
      entries.map(([id], i) => {
        const [error, reply] = replies?.[i] ?? [null, []]
        if (error) throw error
        return [id, Number((reply as [string, string, number, number][])[0]?.[3] ?? 1)]
      }),
    )
  }

  async function giveUp(
    id: string,
    fields: Record<string, string>,
    attempts: number,
    reason: string,
    level: 'warn' | 'error' = 'error',
  ) {
    const multi = redis.multi()
    failedWork.recordInto(multi, { source, stream, entry: id, fields, reason, attempts, at: now() })
    const replies = await multi.xack(stream, group, id).exec()
    for (const [error] of replies ?? []) if (error) throw error
    reasons.delete(id)
    log[level]({ entry: id, attempts, reason }, 'stream entry given up; kept in failed work')
  }

  function retryLater(attempts: number) {
    const due = now() + retryDelayMs * 2 ** (attempts - 1)
    retryAt = retryAt === null ? due : Math.min(retryAt, due)
  }

  async function handleAll(entries: RawEntry[], deliveries: Map<string, number>) {
    for (const [id, pairs] of entries) {
      const attempts = deliveries.get(id) ?? 1
      if (pairs === null) {
        await giveUp(id, {}, attempts - 1, 'trimmed from the stream before it was handled')
        continue
      }
      const fields = entryFields(pairs)
      if (attempts > maxAttempts) {
        // Its last handler never answered (a process that died with it, maybe of it), or its record failed.
        await giveUp(
          id,
          fields,
          attempts - 1,
          reasons.get(id) ?? `delivered ${attempts} times, never finished`,
        )
        continue
      }
      try {
        await handle({ id, fields, deliveries: attempts })
      } catch (error) {
        const reason = reasonOf(error)
        reasons.set(id, reason)
        if (isVigieError(error) && error.code === 'STREAM_ENTRY_REJECTED')
          await giveUp(id, fields, attempts, reason, 'warn')
        else if (attempts >= maxAttempts) await giveUp(id, fields, attempts, reason)
        else {
          log.warn({ err: error, entry: id, attempts }, 'stream entry not handled; tried again later')
          retryLater(attempts)
        }
        continue
      }
      await redis.xack(stream, group, id)
      reasons.delete(id)
    }
  }

  async function claimIdle() {
    let cursor = '0-0'
    do {
      const [next, claimed, trimmed] = (await redis.xautoclaim(
        stream,
        group,
        consumer,
        claimIdleMs,
        cursor,
        'COUNT',
        count,
      )) as [string, RawEntry[], string[]?]
      // XAUTOCLAIM drops trimmed entries from the pending list: they are kept here, not lost in silence.
      for (const id of trimmed ?? []) await giveUp(id, {}, 0, 'trimmed from the stream before it was handled')
      if (claimed.length > 0) {
        log.info({ entries: claimed.length }, 'idle stream entries claimed')
        await handleAll(claimed, await deliveriesOf(claimed))
      }
      cursor = next
    } while (cursor !== '0-0' && running)
  }

  /**
   * Drops the names of consumers gone with nothing pending, so a group does not keep one per restart for
   * ever. A live consumer reads every `blockMs`, so an hour's idleness is no live one's; one holding
   * entries keeps its name until they are claimed, since XGROUP DELCONSUMER would drop them unfinished.
   */
  async function forgetDead() {
    const consumers = (await redis.xinfo('CONSUMERS', stream, group)) as (string | number)[][]
    for (const fields of consumers) {
      const field = (name: string) => fields[fields.indexOf(name) + 1]
      const name = String(field('name'))
      if (name === consumer || Number(field('pending')) > 0 || Number(field('idle')) < forgetIdleMs) continue
      await redis.xgroup('DELCONSUMER', stream, group, name)
      log.info({ gone: name }, 'consumer of a process gone forgotten')
    }
  }

  /** What failed here: this consumer's pending list, read again (each read is a delivery). */
  async function retryOwn() {
    retryAt = null
    const entries = entriesOf(
      (await redis.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'STREAMS', stream, '0')) as ReadReply,
    )
    await handleAll(entries, await deliveriesOf(entries))
    if (entries.length === count && retryAt === null) retryAt = now()
  }

  async function cycle() {
    if (now() >= nextClaim) {
      nextClaim = now() + claimIdleMs / 2
      await claimIdle()
      await forgetDead()
    }
    if (retryAt !== null && now() >= retryAt) await retryOwn()
    if (!running) return
    // The wait ends in time for the next retry or claim.
    const wait = Math.min(blockMs, (retryAt ?? Number.POSITIVE_INFINITY) - now(), nextClaim - now())
    reading = true
    let reply: ReadReply
    try {
      reply = (await redis.xreadgroup(
        'GROUP',
        group,
        consumer,
        'COUNT',
        count,
        'BLOCK',
        Math.max(1, Math.ceil(wait)),
        'STREAMS',
        stream,
        '>',
      )) as ReadReply
    } finally {
      reading = false
    }
    await handleAll(entriesOf(reply), new Map())
  }

  async function run() {
    while (running) {
      try {
        await cycle()
      } catch (err) {
        if (!running) break
        log.error({ err }, 'stream not read; trying again')
        // Whatever the failed step had read is pending here: it is read again next.
        retryLater(1)
        await pause(blockMs)
      }
    }
  }

  return {
    consumer,
    start: async (): Promise<void> => {
      await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM').catch((err: unknown) => {
        if (!(err instanceof Error && err.message.startsWith('BUSYGROUP'))) throw err
      })
      running = true
      loop = run()
    },
    /** Ends a blocked read at once by disconnecting; an entry being handled is finished first. */
    close: async (): Promise<void> => {
      running = false
      wake?.()
      if (reading) redis.disconnect()
      await loop
      redis.disconnect()
    },
  }
}

export type StreamConsumer = ReturnType<typeof createStreamConsumer>
