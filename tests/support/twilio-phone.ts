import { randomBytes } from 'node:crypto'
import twilio from 'twilio'

/** A Twilio id: two letters and 32 hex digits, as Twilio makes them. */
export const twilioSid = (kind: 'SM' | 'CA') => `${kind}${randomBytes(16).toString('hex')}`

/**
 * Twilio's side of vigie's webhooks: the field sets Twilio posts for an inbound SMS, a <Gather> key press
 * and a delivery receipt, signed with the SDK's own helper over PUBLIC_URL + path.
 */
export function twilioPhone({
  publicUrl,
  authToken,
  accountSid,
  number,
}: {
  publicUrl: string
  authToken: string
  accountSid: string
  /** The vigie number (TWILIO_FROM): texts come to it, calls come from it. */
  number: string
}) {
  const place = (prefix: 'From' | 'To' | 'Called' | 'Caller') => ({
    [`${prefix}City`]: '',
    [`${prefix}State`]: '',
    [`${prefix}Zip`]: '',
    [`${prefix}Country`]: 'FR',
  })

  return {
    /** What Twilio posts to the SMS webhook when `from` texts the vigie number. */
    sms: ({ from, body, sid = twilioSid('SM') }: { from: string; body: string; sid?: string }) => ({
      ToCountry: 'FR',
      ToState: '',
      SmsMessageSid: sid,
      NumMedia: '0',
      ToCity: '',
      FromZip: '',
      SmsSid: sid,
      FromState: '',
      SmsStatus: 'received',
      FromCity: '',
      Body: body,
      FromCountry: 'FR',
      To: number,
      ToZip: '',
      NumSegments: '1',
      ReferralNumMedia: '0',
      MessageSid: sid,
      AccountSid: accountSid,
      From: from,
      ApiVersion: '2010-04-01',
    }),

    /** What Twilio posts to a <Gather> action when the called technician presses a key. */
    keypress: ({ to, digits, sid = twilioSid('CA') }: { to: string; digits: string; sid?: string }) => ({
      AccountSid: accountSid,
      ApiVersion: '2010-04-01',
      CallSid: sid,
      CallStatus: 'in-progress',
      Called: to,
      ...place('Called'),
      Caller: number,
      ...place('Caller'),
      Digits: digits,
      Direction: 'outbound-api',
      FinishedOnKey: '',
      From: number,
      ...place('From'),
      To: to,
      ...place('To'),
      msg: 'Gather End',
    }),

    /** What Twilio posts to a message's StatusCallback. */
    smsStatus: ({ sid, to, status }: { sid: string; to: string; status: string }) => ({
      SmsSid: sid,
      SmsStatus: status,
      MessageStatus: status,
      To: to,
      MessageSid: sid,
      AccountSid: accountSid,
      From: number,
      ApiVersion: '2010-04-01',
    }),

    /** The signature Twilio puts on a request to this path (query included). */
    sign: (path: string, form: Record<string, string>) =>
      twilio.getExpectedTwilioSignature(authToken, `${publicUrl}${path}`, form),

    /** Posts a form to vigie as Twilio does; `signature` replays a captured one instead of signing. */
    post: async (path: string, form: Record<string, string>, signature?: string) => {
      const res = await fetch(`${publicUrl}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature':
            signature ?? twilio.getExpectedTwilioSignature(authToken, `${publicUrl}${path}`, form),
        },
        body: new URLSearchParams(form).toString(),
      })
      return { status: res.status, text: await res.text() }
    },
  }
}

export type TwilioPhone = ReturnType<typeof twilioPhone>
