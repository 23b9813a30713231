import type { ChannelName } from './channels.ts'
import { transientFailure } from './delivery-error.ts'
import type { TwilioClient } from './twilio-client.ts'
import { whatsappAddress } from './whatsapp-address.ts'

/**
 * Asks the provider whether a message to `to` went out since `since` (epoch ms): its id, or null. `text`
 * null matches any body (a digest's texts are taken when it is first sent). A failed lookup is transient.
 */
export type SentLookup = (to: string, text: string | null, since: number) => Promise<string | null>

// Twilio's times have whole seconds, and its clock is not ours: a message created this much before the
// noted start still counts.
const defaultSkewMs = 5000

/**
 * The channels whose provider can say what it accepted: SMS and WhatsApp through Twilio (its message list,
 * filtered by address and date sent). Calls and mail cannot be asked: a send cut off there is sent again.
 */
export function createSentLookups({
  twilio,
  from,
  whatsappFrom,
  skewMs = defaultSkewMs,
}: {
  twilio?: TwilioClient | undefined
  from?: string | undefined
  whatsappFrom?: string | undefined
  skewMs?: number
}): Partial<Record<ChannelName, SentLookup>> {
  if (!twilio) return {}
  return {
    ...(from ? { sms: twilioLookup({ twilio, from, skewMs }) } : {}),
    ...(whatsappFrom
      ? {
          whatsapp: twilioLookup({
            twilio,
            from: whatsappAddress(whatsappFrom),
            skewMs,
            to: whatsappAddress,
          }),
        }
      : {}),
  }
}

/** Twilio's message list from `from` to one address, read for a message sent since a time. */
function twilioLookup({
  twilio,
  from,
  skewMs,
  to: addressOf = (to: string) => to,
}: {
  twilio: TwilioClient
  from: string
  skewMs: number
  to?: (to: string) => string
}): SentLookup {
  return async (recipient, text, since) => {
    const to = addressOf(recipient)
    const after = since - skewMs
    try {
      // Newest first; a recipient gets few messages a minute, so one page holds them.
      const messages = await twilio.messages.list({
        to,
        from,
        dateSentAfter: new Date(after),
        pageSize: 100,
        limit: 100,
      })
      const found = messages.find(
        (message) =>
          (text === null || message.body === text) && new Date(message.dateCreated).getTime() >= after,
      )
      return found?.sid ?? null
    } catch (error) {
      throw transientFailure('Twilio could not say whether the message was sent', {
        cause: error,
        outcomeUnknown: true,
      })
    }
  }
}
