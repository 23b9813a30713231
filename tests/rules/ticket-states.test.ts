import { describe, expect, it } from 'vitest'
import { nextStatus } from '../../rules/index.ts'

describe('ticket states', () => {
  it('follows open → acknowledged → en_route → on_site → resolved → closed', () => {
    expect(nextStatus('open', 'assign')).toBe('assigned')
    expect(nextStatus('assigned', 'ack')).toBe('acknowledged')
    expect(nextStatus('acknowledged', 'en-route')).toBe('en_route')
    expect(nextStatus('en_route', 'on-site')).toBe('on_site')
    expect(nextStatus('on_site', 'resolve')).toBe('resolved')
    expect(nextStatus('resolved', 'close')).toBe('closed')
    expect(nextStatus('assigned', 'decline')).toBe('open')
  })

  it('refuses an illegal move with a 409 naming the current status', () => {
    expect(() => nextStatus('resolved', 'ack')).toThrow(
      expect.objectContaining({
        code: 'CONFLICT',
        status: 409,
        message: 'Cannot ack a ticket that is resolved',
        details: expect.objectContaining({ status: 'resolved' }),
      }),
    )
    expect(() => nextStatus('cancelled', 'resolve')).toThrow('Cannot resolve a ticket that is cancelled')
  })
})
