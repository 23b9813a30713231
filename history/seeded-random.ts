import { createRandom as createSeededStream } from '../simulators/index.ts'

/** Numbers from a seed: the same seed and labels give the same year, run after run. */
export type Random = ReturnType<typeof createRandom>

/** The simulators' seeded stream (sfc32 from cyrb128), with the draws a synthetic year needs. */
export function createRandom(seed: string) {
  const stream = createSeededStream(seed)
  const { next } = stream

  const pick = <T>(items: readonly T[]): T => {
    if (items.length === 0) throw new Error('pick from an empty list')
    return items[Math.floor(next() * items.length)] as T
  }

  return {
    next,
    /** A whole number from min to max, both included. */
    int: (min: number, max: number): number => min + Math.floor(next() * (max - min + 1)),
    between: (min: number, max: number): number => min + next() * (max - min),
    chance: (p: number): boolean => next() < p,
    pick,
    /** Exponentially spread around a mean, cut at a ceiling: most waits are short, a few are long. */
    exponential: (mean: number, ceiling = Number.POSITIVE_INFINITY): number =>
      Math.min(ceiling, -mean * Math.log(1 - next())),
    /** One of the keys, in proportion to its weight. */
    weighted: <K extends string>(weights: Readonly<Record<K, number>>): K => {
      let total = 0
      for (const key in weights) total += weights[key]
      let left = next() * total
      let last = '' as K
      for (const key in weights) {
        left -= weights[key]
        last = key
        if (left < 0) return key
      }
      return last
    },
    /** Hex digits, for provider message ids. */
    hex: stream.hex,
  }
}
