import { Worker } from 'node:worker_threads'
import type { SiteFile } from '../config/index.ts'
import { VigieError } from '../domain/index.ts'

type World = Pick<SiteFile, 'sites' | 'devices' | 'rules'>
type Answer = {
  id: number
  /** The ReplayResult as JSON, written in the thread: thousands of incidents cost the loop only a copy. */
  json?: string
  invalid?: { message: string; details: unknown }
  error?: string
}

/**
 * Dry runs in a worker thread: parsing and replaying 10,000 readings against a big site takes longer than
 * the event loop's 50 ms budget, so the API, the broker and /healthz go on meanwhile. One thread, started on the
 * first call, one run at a time; a run past `timeoutMs` ends the thread (the next call starts another).
 */
export function createDryRunThread({ world, timeoutMs = 30_000 }: { world: World; timeoutMs?: number }) {
  let worker: Worker | undefined
  let nextId = 0
  const waiting = new Map<number, { resolve: (json: string) => void; reject: (e: Error) => void }>()

  function failAll(error: Error) {
    for (const { reject } of waiting.values()) reject(error)
    waiting.clear()
  }

  function started(): Worker {
    if (worker) return worker
    // The thread loads TypeScript as the service does: tsx registered first, then the worker's module.
    const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'))
    const entry = JSON.stringify(new URL('./dry-run-worker.ts', import.meta.url).href)
    const code = `import(${tsx}).then(({ register }) => { register(); return import(${entry}) })`
    const thread = new Worker(code, { eval: true, workerData: world })
    thread.on('message', ({ id, json, invalid, error }: Answer) => {
      const pending = waiting.get(id)
      waiting.delete(id)
      if (!pending) return
      if (json !== undefined) pending.resolve(json)
      else if (invalid) pending.reject(new VigieError({ code: 'VALIDATION_FAILED', ...invalid }))
      else pending.reject(new Error(error ?? 'dry run failed'))
    })
    thread.on('error', (err) => failAll(err))
    thread.on('exit', () => {
      if (worker === thread) worker = undefined
      failAll(new VigieError({ code: 'NOT_READY', message: 'The dry run stopped before it finished' }))
    })
    thread.unref()
    worker = thread
    return thread
  }

  return {
    /** Reads the body's JSON text and replays it in the thread: the event loop never parses 1 MiB of readings. */
    /** The replay's result as JSON text (a ReplayResult). */
    run: (text: string, now: number): Promise<string> =>
      new Promise<string>((resolve, reject) => {
        const id = nextId++
        const timer = setTimeout(() => {
          reject(
            new VigieError({
              code: 'NOT_READY',
              message: `The dry run took longer than ${timeoutMs / 1000} s; replay fewer readings`,
            }),
          )
          void worker?.terminate()
        }, timeoutMs)
        waiting.set(id, {
          resolve: (result) => {
            clearTimeout(timer)
            resolve(result)
          },
          reject: (error) => {
            clearTimeout(timer)
            reject(error)
          },
        })
        started().postMessage({ id, text, now })
      }),
    close: async () => {
      await worker?.terminate()
    },
  }
}
