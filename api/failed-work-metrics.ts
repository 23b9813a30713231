import { Gauge, type Registry } from 'prom-client'

/** Issue 16: entries given up per source, read from Redis so every process answers the same. */
export function registerFailedWorkGauge(
  register: Registry,
  counts: () => Promise<Record<string, number>>,
): void {
  new Gauge({
    name: 'vigie_failed_work_total',
    help: 'Stream entries given up after their retries and kept in the failed-work log, by source',
    labelNames: ['source'],
    registers: [register],
    async collect() {
      for (const [source, count] of Object.entries(await counts())) this.set({ source }, count)
    },
  })
}
