import { describe, expect, it } from 'vitest'
import { ConfigError, customerSchema, loadConfig } from '../../config/index.ts'
import { whatsappAddress, whatsappAddressSchema } from '../../notifier/index.ts'

// What a WhatsApp contact and the WhatsApp sender need (issue 18), checked where they enter.
const twilio = {
  TWILIO_ACCOUNT_SID: `AC${'0123456789abcdef'.repeat(2)}`,
  TWILIO_AUTH_TOKEN: 'twilio-test-auth-token-0123456789',
  TWILIO_FROM: '+33100000000',
}

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ env })
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as ConfigError).problems.map((p) => `${p.where}${p.path ? ` ${p.path}` : ''}: ${p.message}`)
  }
  throw new Error('expected the settings to be refused')
}

const customer = (contacts: unknown[]) =>
  customerSchema.safeParse({ id: 'ana', name: 'Ana', contacts, subscribes: { sites: ['s1'] } })

describe('WhatsApp set-up', () => {
  it('reads TWILIO_WHATSAPP_FROM as an E.164 number, with the Twilio account', () => {
    const { settings } = loadConfig({ env: { ...twilio, TWILIO_WHATSAPP_FROM: '+14155238886' } })
    expect(settings.twilioWhatsappFrom).toBe('+14155238886')
    expect(loadConfig({ env: twilio }).settings.twilioWhatsappFrom).toBeUndefined()
  })

  it('refuses a WhatsApp sender that is no number, or given without the Twilio account', () => {
    expect(problems({ ...twilio, TWILIO_WHATSAPP_FROM: 'whatsapp:+14155238886' })).toEqual([
      'environment variable TWILIO_WHATSAPP_FROM: a phone number in E.164 form, like +33612345678; got "whatsapp:+14155238886"',
    ])
    expect(problems({ TWILIO_WHATSAPP_FROM: '+14155238886' })).toEqual([
      'environment variable TWILIO_WHATSAPP_FROM: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM too: WhatsApp goes through Twilio',
    ])
  })

  it('takes { whatsapp: "+33…" } as a contact, refusing a bad number and naming the four kinds for an unknown one', () => {
    expect(customer([{ whatsapp: '+33600000201' }, { email: 'ana@example.com' }]).data?.contacts).toEqual([
      { whatsapp: '+33600000201' },
      { email: 'ana@example.com' },
    ])
    // The number is the setting's E.164, without the prefix Twilio's addresses carry.
    for (const wrong of ['whatsapp:+33600000201', '0600000201'])
      expect(customer([{ whatsapp: wrong }]).error?.issues).toEqual([
        expect.objectContaining({
          path: ['contacts', 0, 'whatsapp'],
          message: 'a phone number in E.164 form, like +33612345678',
        }),
      ])
    expect(customer([{ telegram: '+33600000201' }]).error?.issues).toEqual([
      expect.objectContaining({
        message:
          'a contact is one of { sms: "+33…" }, { voice: "+33…" }, { email: "…" } or { whatsapp: "+33…" }',
      }),
    ])
  })

  it('writes and reads WhatsApp addresses as Twilio does', () => {
    expect(whatsappAddress('+33600000201')).toBe('whatsapp:+33600000201')
    expect(whatsappAddress('whatsapp:+33600000201')).toBe('whatsapp:+33600000201')
    expect(whatsappAddressSchema.safeParse('whatsapp:+33600000201').success).toBe(true)
    for (const bad of ['+33600000201', 'whatsapp:', 'whatsapp:+33 6', 'WHATSAPP:+33600000201'])
      expect(whatsappAddressSchema.safeParse(bad).success).toBe(false)
  })
})
