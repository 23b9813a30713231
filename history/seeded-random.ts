/** Numbers from a seed: the same seed and labels give the same year, run after run. */
export type Random = ReturnType<typeof createRandom>

const hexDigits = '0123456789abcdef'

/** cyrb128: a string to four 32-bit words, the state sfc32 starts from. */
function hashSeed(text: string): [number, number, number, number] {
  let [h1, h2, h3, h4] = [1779033703, 3144134277, 1013904242, 2773480762]
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i)
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067)
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233)
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213)
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179)
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067)
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233)
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213)
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179)
  return [(h1 ^ h2 ^ h3 ^ h4) >>> 0, (h2 ^ h1) >>> 0, (h3 ^ h1) >>> 0, (h4 ^ h1) >>> 0]
}

/** sfc32, seeded by a text: fast, small, and good enough to draw a synthetic year from. */
export function createRandom(seed: string) {
  let [a, b, c, d] = hashSeed(seed)
  const next = (): number => {
    a >>>= 0
    b >>>= 0
    c >>>= 0
    d >>>= 0
    let t = (a + b) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    d = (d + 1) | 0
    t = (t + d) | 0
    c = (c + t) | 0
    return (t >>> 0) / 4294967296
  }
  // The first draws of a fresh state are poorly mixed.
  for (let i = 0; i < 12; i++) next()

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
    hex: (length: number): string => {
      let text = ''
      for (let i = 0; i < length; i++) text += hexDigits[Math.floor(next() * 16)]
      return text
    },
  }
}
