// sfc32 seeded by cyrb128, written here because package.json belongs to others (pure-rand would do).

/** A seeded stream of pseudo-random numbers: the same seed gives the same stream on every machine. */
export type Random = {
  /** Uniform in [0, 1). */
  next: () => number
  /** Uniform in [min, max). */
  between: (min: number, max: number) => number
  /** An integer in [0, n). */
  int: (n: number) => number
  /** Normally distributed around 0 with this standard deviation (Box–Muller). */
  normal: (sigma: number) => number
  /** Exponentially distributed with this mean: the gaps of a Poisson process. */
  exponential: (mean: number) => number
  /** Lowercase hex digits, for ids and secrets. */
  hex: (length: number) => string
}

/** 128 bits of state from a string (cyrb128), so any text can be a seed. */
function hashSeed(text: string): [number, number, number, number] {
  let h1 = 1779033703
  let h2 = 3144134277
  let h3 = 1013904242
  let h4 = 2773480762
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
  h1 ^= h2 ^ h3 ^ h4
  h2 ^= h1
  h3 ^= h1
  h4 ^= h1
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0]
}

/** A PRNG for this seed; `label` derives an independent stream (a device id, a technician id). */
export function createRandom(seed: string, label = ''): Random {
  let [a, b, c, d] = hashSeed(`${seed}\u0000${label}`)
  const next = () => {
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
  // The first outputs of sfc32 echo the seed; 12 rounds mix it in.
  for (let i = 0; i < 12; i++) next()
  const int = (n: number) => Math.floor(next() * n)
  return {
    next,
    between: (min, max) => min + next() * (max - min),
    int,
    normal: (sigma) => {
      const u = 1 - next()
      const v = next()
      return sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
    },
    exponential: (mean) => -mean * Math.log(1 - next()),
    hex: (length) => {
      let text = ''
      while (text.length < length) text += int(16).toString(16)
      return text
    },
  }
}
