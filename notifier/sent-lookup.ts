import type { ChannelName } from './channels.ts'
import { transientFailure } from './delivery-error.ts'
import type { TwilioClient } from './twilio-client.ts'

/**
 * Asks the provider whether a message to `to` went out since `since` (epoch ms): its id, or null. `text`
 * null matches any body (a digest's texts are taken when it is first sent). A failed lookup is transient.
 */
export type SentLookup = (to: string, text: string | null, since: number) => Promise<string | null>

// Twilio's times have whole seconds, and its clock is not ours: a message created this much before the
// noted start still counts.
const defaultSkewMs = 5000

/**
 * The channels whose provider can say what it accepted: SMS through Twilio (its message list, filtered by
 * number and date sent). Calls and mail cannot be asked: a send cut off there is sent again.
 */
export function createSentLookups({
  twilio,
  from,
  skewMs = defaultSkewMs,
}: {
  twilio?: TwilioClient | undefined
  from?: string | undefined
  skewMs?: number
}): Partial<Record<ChannelName, SentLookup>> {
  if (!twilio || !from) return {}
  return {
    sms: async (to, text, since) => {
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
    },
  }
}
