import { describe, expect, it } from 'vitest'
import { openClient } from '../../service/index.ts'
import { testRedisUrl } from '../support/redis.ts'
import { startTestService } from '../support/test-service.ts'
import { waitFor } from '../support/wait-for.ts'

const doors = ['door-1', 'door-2', 'door-3', 'door-4']
const site = `
sites: [{ id: s1, name: Site, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 } }]
devices:
${doors.map((id) => `  - { id: ${id}, kind: door, site: s1, secret: "secret-${id}", location: { lat: 49.0, lon: 2.57 } }`).join('\n')}
technicians: [{ id: tech-1, name: One, phone: "+33600000001", skills: [security], location: { lat: 49.001, lon: 2.57 } }]
rules: [{ id: door-forced, match: { kind: door }, condition: { unauthorised: true }, severity: critical, skill: security }]
dispatch: { offerTimeout: 10m, maxOffers: 3, travelSpeedKmh: 5, supervisors: [] }
`

type FailedWorkView = {
  id: string
  source: string
  stream: string
  entry: string
  fields: Record<string, string>
  reason: string
  attempts: number
  at: string
}
type Page<T> = { items: T[]; next: string | null }

describe('a reading whose evaluation throws (issue 16)', () => {
  it('is kept in failed work with its reason and counted in /metrics, and the readings around it are evaluated', async () => {
    const world = await startTestService({ site })
    const redis = await openClient(testRedisUrl(), 5000)
    try {
      // Leftovers of a buggy version: a phase no version knows, and an object written without JSON.
      await redis.hset(
        `${world.prefix}rule-states:door-2`,
        'door-forced',
        JSON.stringify({ phase: 'opened', count: 1 }),
      )
      await redis.hset(`${world.prefix}rule-states:door-3`, 'door-forced', '[object Object]')
      for (const door of ['door-2', 'door-1', 'door-3', 'door-4'])
        await world.publish(door, { type: 'door', open: true })

      const failed = await waitFor(
        async () => {
          const page = await world.api<Page<FailedWorkView>>('/api/failed-work')
          return page.items.length === 2 ? page.items : undefined
        },
        { what: 'both readings in failed work' },
      )
      const tickets = await waitFor(
        async () => {
          const { items } = await world.api<Page<{ device: string }>>('/api/tickets')
          return items.length >= 2 ? items : undefined
        },
        { what: 'the healthy doors’ tickets' },
      )
      expect(tickets.map((t) => t.device).sort()).toEqual(['door-1', 'door-4'])
      expect(
        failed
          .map((w) => ({ device: JSON.parse(w.fields.r ?? '{}').device, ...w }))
          .sort((a, b) => a.device.localeCompare(b.device)),
      ).toEqual([
        expect.objectContaining({
          device: 'door-2',
          source: 'rules',
          stream: expect.stringMatching(new RegExp(`^${world.prefix}log:\\d+$`)),
          reason: expect.stringMatching(/^rule state door-forced of door-2 is not a rule state: /),
          attempts: 3,
        }),
        expect.objectContaining({
          device: 'door-3',
          source: 'rules',
          reason: expect.stringMatching(/^rule state door-forced of door-3 is not JSON: /),
          attempts: 3,
        }),
      ])
      // Newest first, a page at a time.
      const first = await world.api<Page<FailedWorkView>>('/api/failed-work?limit=1')
      const second = await world.api<Page<FailedWorkView>>(`/api/failed-work?limit=1&cursor=${first.next}`)
      expect([first.items[0]?.id, second.items[0]?.id, second.next]).toEqual([
        failed[0]?.id,
        failed[1]?.id,
        null,
      ])
      expect(first.items[0]?.id.localeCompare(second.items[0]?.id ?? '', 'en', { numeric: true })).toBe(1)

      for (const { stream, entry } of failed) {
        const pending = await redis.xpending(stream, 'rules', entry, entry, 1)
        expect(pending, `${entry} acknowledged`).toEqual([])
      }
      const metrics = await (await fetch(`${world.publicUrl}/metrics`)).text()
      expect(metrics).toMatch(/^vigie_failed_work_total\{source="rules"\} 2$/m)
      expect(metrics).toMatch(/^vigie_failed_work_total\{source="notifier"\} 0$/m)
    } finally {
      redis.disconnect()
      await world.close()
    }
  })
})
