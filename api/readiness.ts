/** Named checks that /readyz runs; each part adds its own (redis now, the broker with it). */
export type Readiness = {
  add: (name: string, check: () => Promise<boolean> | boolean) => void
  check: (timeoutMs?: number) => Promise<{ ready: boolean; checks: Record<string, 'up' | 'down'> }>
}

export function createReadiness(): Readiness {
  const checks = new Map<string, () => Promise<boolean> | boolean>()
  return {
    add: (name, check) => {
      checks.set(name, check)
    },
    check: async (timeoutMs = 1000) => {
      const results = await Promise.all(
        [...checks].map(async ([name, check]) => [name, await withTimeout(check, timeoutMs)] as const),
      )
      return {
        ready: results.every(([, up]) => up),
        checks: Object.fromEntries(results.map(([name, up]) => [name, up ? 'up' : 'down'])),
      }
    },
  }
}

async function withTimeout(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs)
  })
  try {
    return await Promise.race([Promise.resolve().then(check), late])
  } catch {
    return false
  } finally {
    clearTimeout(timer)
  }
}
