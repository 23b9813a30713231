import type { Logger } from 'pino'
import type { Rule, Site } from '../config/index.ts'
import { type Reading, readingSchema } from '../domain/index.ts'
import { entryFields, reasonOf } from '../streams/index.ts'
import { evaluateReading } from './evaluate-reading.ts'
import type { DeviceWhere } from './incident-flow.ts'
import { rulesFor } from './rule-matcher.ts'
import { idleState, type RuleEffect } from './rule-state.ts'
import type { RuleStateBook } from './rule-state-book.ts'

/** What XREADGROUP answers: per shard stream, its entries as [id, [field, value, …]]. */
export type ShardEntries = [string, [string, string[]][]][]

/** A log entry's reading; the log holds what ingest validated, so anything else is skipped, not retried. */
function readingOf(fields: string[]): Reading | null {
  try {
    return readingSchema.safeParse(JSON.parse(fields[1] ?? 'null')).data ?? null
  } catch {
    return null
  }
}

type Item = {
  key: string
  id: string
  pairs: string[]
  reading: Reading
  device: DeviceWhere
  matching: Rule[]
}

/**
 * Evaluates what one read of the readings log returned, from every shard: states from memory, written and
 * acknowledged with the next read. A reading whose evaluation throws is tried again from its device's
 * states as Redis holds them, then given up to the failed-work log (issue 16); the rest of the batch goes on.
 */
export function createReadingBatch({
  rules,
  book,
  places,
  placeOf,
  siteOf,
  apply,
  logger,
  now,
  maxAttempts = 3,
}: {
  rules: Rule[]
  book: RuleStateBook
  /** The worker's cache of where devices are, filled by placeOf. */
  places: Map<string, DeviceWhere | null>
  placeOf: (id: string) => Promise<DeviceWhere | null>
  siteOf: (id: string) => Site | undefined
  /** Carries out what a rule's evaluation asks for: timers, incidents, tickets. */
  apply: (rule: Rule, device: DeviceWhere, effects: RuleEffect[]) => Promise<void>
  logger: Logger
  now: () => number
  maxAttempts?: number
}) {
  /** Evaluates a reading against the matching rules not done yet, updating its device's states in place. */
  async function evaluate({ reading, device, matching }: Item, done: Set<string>) {
    const states = book.of(device.id)
    for (const rule of matching) {
      if (done.has(rule.id)) continue
      const before = states.get(rule.id) ?? idleState
      const next = evaluateReading({ rule, state: before, reading, site: siteOf(device.site) })
      await apply(rule, device, next.effects)
      if (next.state !== before) book.set(device.id, rule.id, next.state)
      done.add(rule.id)
    }
  }

  /** Answers whether the reading was evaluated; when not, it is parked in the book, acknowledged with its record. */
  async function evaluateOrPark(item: Item): Promise<boolean> {
    // A retry skips the rules the reading already went through: their effects are applied.
    const done = new Set<string>()
    for (let attempt = 1; ; attempt++) {
      try {
        await evaluate(item, done)
        return true
      } catch (error) {
        if (attempt >= maxAttempts) {
          logger.error(
            { err: error, entry: item.id, deviceId: item.device.id, attempts: attempt },
            'reading not evaluated; kept in failed work',
          )
          book.park({
            source: 'rules',
            stream: item.key,
            entry: item.id,
            fields: entryFields(item.pairs),
            reason: reasonOf(error),
            attempts: attempt,
            at: now(),
          })
          return false
        }
        await book.reload(item.device.id)
      }
    }
  }

  return async function handle(streams: ShardEntries): Promise<void> {
    const read = streams.flatMap(([key, entries]) =>
      entries.map(([id, pairs]) => ({ key, id, pairs, reading: readingOf(pairs) })),
    )
    // Places not known yet (a start, a takeover) are asked for together: one round trip, not one per device.
    const unknown = new Set(
      read.flatMap(({ reading }) => (reading && !places.has(reading.device) ? [reading.device] : [])),
    )
    await Promise.all([...unknown].map(placeOf))
    const batch: Item[] = []
    for (const { key, id, pairs, reading } of read) {
      const device = reading ? (places.get(reading.device) ?? null) : null
      const matching = device ? rulesFor(rules, device) : []
      if (reading && device && matching.length > 0) batch.push({ key, id, pairs, reading, device, matching })
    }
    await book.load(batch.map((b) => b.device.id))
    const parked = new Set<string>()
    for (const item of batch) if (!(await evaluateOrPark(item))) parked.add(`${item.key} ${item.id}`)
    for (const [key, entries] of streams)
      book.acknowledge(
        key,
        entries.map(([id]) => id).filter((id) => !parked.has(`${key} ${id}`)),
      )
  }
}
