import { describe, expect, it } from 'vitest'
import { customerSchema } from '../../config/people-schema.ts'
import { quietUntil } from '../../notifier/index.ts'

const customer = (quietHours?: string) =>
  customerSchema.parse({
    id: 'c1',
    name: 'Salon',
    contacts: [{ sms: '+33600000101' }],
    subscribes: { sites: ['s1'] },
    ...(quietHours ? { quietHours } : {}),
  })

// 2026-11-22 is winter time in Paris: UTC+1.
const at = (utc: string) => Date.parse(`2026-11-22T${utc}:00Z`)

describe('quiet hours', () => {
  it('holds a notice until the end of the range, across midnight, in the site time zone', () => {
    // 23:30 Paris, quiet 22:00-07:00: held until 07:00 Paris the next day (06:00 UTC).
    expect(quietUntil(customer('22:00-07:00'), at('22:30'), 'Europe/Paris')).toBe(
      Date.parse('2026-11-23T06:00:00Z'),
    )
    // 03:10 Paris on the same night: still held until 07:00 Paris.
    expect(quietUntil(customer('22:00-07:00'), Date.parse('2026-11-23T02:10:00Z'), 'Europe/Paris')).toBe(
      Date.parse('2026-11-23T06:00:00Z'),
    )
  })

  it('lets a notice go at once outside quiet hours, at their end minute, or without any', () => {
    expect(quietUntil(customer('22:00-07:00'), at('12:00'), 'Europe/Paris')).toBeUndefined()
    expect(
      quietUntil(customer('22:00-07:00'), Date.parse('2026-11-23T06:00:00Z'), 'Europe/Paris'),
    ).toBeUndefined()
    expect(quietUntil(customer(), at('23:00'), 'Europe/Paris')).toBeUndefined()
  })

  it('ends at the local end minute across a DST change, not an hour early or late', () => {
    // 2026-03-29: Paris goes from UTC+1 to UTC+2 at 02:00. 23:00 Paris (22:00 UTC) → 07:00 CEST = 05:00 UTC.
    expect(quietUntil(customer('22:00-07:00'), Date.parse('2026-03-28T22:00:00Z'), 'Europe/Paris')).toBe(
      Date.parse('2026-03-29T05:00:00Z'),
    )
    // 2026-10-25: back to UTC+1 at 03:00. 23:00 Paris (21:00 UTC) → 07:00 CET = 06:00 UTC.
    expect(quietUntil(customer('22:00-07:00'), Date.parse('2026-10-24T21:00:00Z'), 'Europe/Paris')).toBe(
      Date.parse('2026-10-25T06:00:00Z'),
    )
    // An end the change skips (02:30 on 29 March does not exist): the first minute after it, 03:00 CEST.
    expect(quietUntil(customer('22:00-02:30'), Date.parse('2026-03-28T22:00:00Z'), 'Europe/Paris')).toBe(
      Date.parse('2026-03-29T01:00:00Z'),
    )
  })
})
