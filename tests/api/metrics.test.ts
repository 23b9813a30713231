import { describe, expect, it } from 'vitest'
import { oneDoorSite } from '../support/one-door-site.ts'
import { startTestService } from '../support/test-service.ts'
import { waitFor } from '../support/wait-for.ts'

const site = `${oneDoorSite}`

describe('GET /metrics', () => {
  it('counts readings, dead letters, open tickets by severity, notification outcomes and queued jobs', async () => {
    const world = await startTestService({ site })
    try {
      await world.publish(
        'door-1',
        { type: 'door', open: true },
        { type: 'door', open: true },
        { type: 'door', celsius: 9 },
      )
      const text = await waitFor(
        async () => {
          const body = await (await fetch(`${world.publicUrl}/metrics`)).text()
          return /vigie_open_tickets\{severity="critical"\} 1/.test(body) &&
            /vigie_notification_outcomes_total\{status="failed"\} 1/.test(body)
            ? body
            : undefined
        },
        { what: 'the ticket and the failed SMS (no provider here) in the metrics' },
      )
      expect(text).toMatch(/^vigie_readings_stored_total 2$/m)
      expect(text).toMatch(/^vigie_dead_letters_total 1$/m)
      expect(text).toMatch(/^vigie_open_tickets\{severity="major"\} 0$/m)
      expect(text).toMatch(/^vigie_delivery_queue_jobs\{state="waiting"\} \d+$/m)
      expect(text).toMatch(/^vigie_process_nodejs_eventloop_lag_seconds /m)
    } finally {
      await world.close()
    }
  })
})
