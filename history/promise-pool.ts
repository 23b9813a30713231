/**
 * Runs `work` on each item `next` gives, `concurrency` at a time. Items are taken one by one, in order,
 * so `next` may keep state; the first failure stops the taking and is thrown once the running ones end.
 */
export async function runPool<T>({
  next,
  work,
  concurrency,
}: {
  next: () => T | null
  work: (item: T) => Promise<void>
  concurrency: number
}): Promise<void> {
  let failure: { error: unknown } | undefined
  const worker = async () => {
    while (!failure) {
      const item = next()
      if (item === null) return
      try {
        await work(item)
      } catch (error) {
        failure ??= { error }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker))
  if (failure) throw failure.error
}

/**
 * Work on one key waits for the work queued before it on the same key: two lives of one correlation key
 * never interleave, whatever the pool runs beside them.
 */
export function createKeyedQueue() {
  const tails = new Map<string, Promise<unknown>>()
  return <R>(key: string, work: () => Promise<R>): Promise<R> => {
    const before = tails.get(key) ?? Promise.resolve()
    const run = before.then(work, work)
    const tail = run.catch(() => undefined)
    tails.set(key, tail)
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key)
    })
    return run
  }
}
