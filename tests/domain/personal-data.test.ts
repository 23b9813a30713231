import { describe, expect, it } from 'vitest'
import { maskEmail, maskPersonalText, maskPhone } from '../../domain/index.ts'

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
})
