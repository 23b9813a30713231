import nodemailer from 'nodemailer'
import { refusal, transientFailure } from './delivery-error.ts'
import type { TwilioClient } from './twilio-client.ts'
import { whatsappAddress } from './whatsapp-address.ts'

export type ChannelName = 'sms' | 'voice' | 'email' | 'whatsapp'

/** What one channel sends: text for SMS, TwiML for a call, subject, text and HTML for an email. */
export type Content = {
  text: string
  subject?: string | undefined
  html?: string | undefined
  twiml?: string | undefined
}

/** Sends one message; resolves with the provider's id for it, throws a transient failure or a refusal. */
export type Channel = (to: string, content: Content, options: { statusCallback?: string }) => Promise<string>

// SMTP answers in the 4xx range and dropped connections are worth another try; 5xx answers are final.
function smtpFailure(error: unknown) {
  const { responseCode, code } = error as { responseCode?: number; code?: string }
  if (responseCode !== undefined && responseCode >= 500)
    return refusal(`SMTP refused the mail (${responseCode})`, error)
  return transientFailure(`SMTP failed (${responseCode ?? code ?? 'no answer'})`, { cause: error })
}

function twilioFailure(error: unknown) {
  if ((error as { code?: string }).code === 'DELIVERY_TRANSIENT') return error
  const status = (error as { status?: number }).status
  // No status: the request never got an answer (refused connection, timeout): try again.
  if (status === undefined)
    return transientFailure('Twilio did not answer', { cause: error, outcomeUnknown: true })
  return refusal(`Twilio refused the message (${status})`, error)
}

export function createChannels({
  twilio,
  from,
  whatsappFrom,
  smtpUrl,
  mailFrom,
}: {
  twilio?: TwilioClient | undefined
  from?: string | undefined
  /** The WhatsApp sender's number (TWILIO_WHATSAPP_FROM); without it there is no WhatsApp channel. */
  whatsappFrom?: string | undefined
  smtpUrl?: string | undefined
  mailFrom: string
}): Partial<Record<ChannelName, Channel>> & { close: () => void } {
  const mail = smtpUrl ? nodemailer.createTransport(smtpUrl) : undefined
  const channels: Partial<Record<ChannelName, Channel>> = {}
  if (twilio && from) {
    channels.sms = async (to, content, { statusCallback }) => {
      try {
        const message = await twilio.messages.create({
          to,
          from,
          body: content.text,
          ...(statusCallback ? { statusCallback } : {}),
        })
        return message.sid
      } catch (error) {
        throw twilioFailure(error)
      }
    }
    channels.voice = async (to, content, { statusCallback }) => {
      try {
        const call = await twilio.calls.create({
          to,
          from,
          twiml: content.twiml ?? content.text,
          ...(statusCallback ? { statusCallback } : {}),
        })
        return call.sid
      } catch (error) {
        throw twilioFailure(error)
      }
    }
  }
  if (twilio && whatsappFrom) {
    // The same Messages API as SMS: both ends carry the whatsapp: prefix (issue 18).
    channels.whatsapp = async (to, content, { statusCallback }) => {
      try {
        const message = await twilio.messages.create({
          to: whatsappAddress(to),
          from: whatsappAddress(whatsappFrom),
          body: content.text,
          ...(statusCallback ? { statusCallback } : {}),
        })
        return message.sid
      } catch (error) {
        throw twilioFailure(error)
      }
    }
  }
  if (mail) {
    channels.email = async (to, content) => {
      try {
        const sent = await mail.sendMail({
          from: mailFrom,
          to,
          subject: content.subject ?? content.text.slice(0, 80),
          text: content.text,
          ...(content.html ? { html: content.html } : {}),
        })
        return sent.messageId
      } catch (error) {
        throw smtpFailure(error)
      }
    }
  }
  return { ...channels, close: () => mail?.close() }
}
