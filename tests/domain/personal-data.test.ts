import { describe, expect, it } from 'vitest'
import { maskEmail, maskPersonalText, maskPhone, redactDeep } from '../../domain/index.ts'

describe('masking personal data', () => {
  it('keeps the country code and last two digits of a phone number', () => {
    expect(maskPhone('+33600000001')).toBe('+33•••••••01')
  })

  it('keeps the first letter and the domain of an email address', () => {
    expect(maskEmail('amina@example.com')).toBe('a•••@example.com')
  })

  it('masks every one inside a text and leaves other numbers alone', () => {
    expect(maskPersonalText('call +33612345678 or mail ops@sky.example, ticket 1700000000000')).toBe(
      'call +33•••••••78 or mail o•••@sky.example, ticket 1700000000000',
    )
  })

  it('masks the password of a URL, so a Redis URL in an error stays safe to log', () => {
    const password = 'a6f0c1d2e3f4a5b6c7d8e9f0a1b2c3d4'
    expect(
      redactDeep({ err: { message: `Redis at redis://:${password}@127.0.0.1:6379 is not reachable` } }),
    ).toEqual({ err: { message: 'Redis at redis://[redacted]@127.0.0.1:6379 is not reachable' } })
    expect(maskPersonalText('mqtt://bridge:hunter2@broker.example:1883/x')).toBe(
      'mqtt://[redacted]@broker.example:1883/x',
    )
  })
})
