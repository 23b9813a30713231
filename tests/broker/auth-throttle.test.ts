import { describe, expect, it } from 'vitest'
import { createAuthThrottle } from '../../broker/index.ts'

describe('the login throttle', () => {
  it('lets two failures pass, then doubles the wait up to its ceiling, per address', () => {
    const throttle = createAuthThrottle({ freeFailures: 2, baseMs: 100, maxMs: 1000 })
    const delays: number[] = []
    for (let i = 0; i < 7; i++) {
      delays.push(throttle.delayFor('10.0.0.1', 0))
      throttle.failed('10.0.0.1', 0)
    }
    expect(delays).toEqual([0, 0, 0, 100, 200, 400, 800])
    expect(throttle.delayFor('10.0.0.1', 0)).toBe(1000)
    expect(throttle.delayFor('10.0.0.2', 0)).toBe(0)
  })

  it('forgets an address after a success or ten quiet minutes', () => {
    const throttle = createAuthThrottle()
    for (let i = 0; i < 5; i++) throttle.failed('a', 0)
    expect(throttle.delayFor('a', 1000)).toBeGreaterThan(0)
    expect(throttle.delayFor('a', 600_001)).toBe(0)
    throttle.succeeded('a')
    expect(throttle.delayFor('a', 1000)).toBe(0)
  })
})
