import type { Redis } from 'ioredis'
import { z } from 'zod'
import {
  isSurveyScore,
  readSurveyAnswer,
  type SurveyAnswer,
  type SurveyKind,
  surveyAnswerDetail,
  surveyKindSchema,
} from '../domain/index.ts'
import { customerHistoryOps, type IndexOp, ruleKeys, type TicketStore } from '../rules/index.ts'
import { answerHistoryOps } from './customer-history.ts'
import { notificationKeys } from './keys.ts'
import type { NotificationStore } from './notification-store.ts'

// A survey sent by SMS waits a week for its answer.
const pendingSeconds = 7 * 86_400

const pendingSchema = z.strictObject({
  ticket: z.string().min(1),
  customer: z.string().min(1).optional(),
  kind: surveyKindSchema,
})
type Pending = z.infer<typeof pendingSchema>

/** A pending survey as stored; before issue 18 it was the bare ticket id, and every survey CSAT. */
function readPending(value: string): Pending | null {
  if (!value.startsWith('{')) return { ticket: value, kind: 'csat' }
  try {
    return pendingSchema.parse(JSON.parse(value))
  } catch {
    return null
  }
}

export type SurveyOutcome =
  | { outcome: 'recorded'; answer: SurveyAnswer }
  /** This customer's answer on this ticket was recorded before: the first one stands. */
  | { outcome: 'already'; answer: SurveyAnswer | null }

export type SmsSurveyOutcome =
  | SurveyOutcome
  | { outcome: 'out-of-range'; kind: SurveyKind }
  /** No survey waits for an answer from this number: the text is something else. */
  | { outcome: 'none' }

/**
 * Survey answers (issue 18), by SMS or by the email's signed links: one per customer and ticket, whatever
 * the channel, filed on the ticket as `ticket.survey_answered` with detail "<kind>:<score>".
 */
export function createSurveyAnswers({
  redis,
  prefix,
  tickets,
  notifications,
  linkLifetimeMs,
}: {
  redis: Redis
  prefix: string
  tickets: Pick<TicketStore, 'note'>
  /** Finds the customer an answer from a number came from, for a survey pended before answers named one. */
  notifications: Pick<NotificationStore, 'ofTicket'>
  /** How long a survey email's links stay good (SURVEY_LINK_LIFETIME): an answer is remembered past it. */
  linkLifetimeMs: number
}) {
  const keys = notificationKeys(prefix)
  const rememberMs = Math.max(linkLifetimeMs, pendingSeconds * 1000) + 86_400_000
  // The answer enters the customer's history in the ticket's own write (issue 18).
  const historyOf = (customer: string, ticket: string, value: string, at: number): IndexOp[] =>
    customerHistoryOps(ruleKeys(prefix), customer, at, [{ kind: 'answer', at, ticket, value }])

  async function record(
    { ticket, customer, kind, score }: { ticket: string; customer: string } & SurveyAnswer,
    now: number,
  ): Promise<SurveyOutcome> {
    const answer = { kind, score }
    const key = keys.surveyAnswer(ticket, customer)
    // The first answer takes the key; a second click, a replay or another channel finds it taken.
    if ((await redis.set(key, surveyAnswerDetail(answer), 'PX', rememberMs, 'NX')) !== 'OK')
      return { outcome: 'already', answer: readSurveyAnswer(await redis.get(key)) }
    try {
      const detail = surveyAnswerDetail(answer)
      await tickets.note(
        ticket,
        'ticket.survey_answered',
        'customer',
        now,
        detail,
        historyOf(customer, ticket, detail, now),
      )
    } catch (error) {
      // Not filed: the answer may be given again.
      await redis.del(key)
      throw error
    }
    return { outcome: 'recorded', answer }
  }

  return {
    record,

    /** The answer recorded for this customer on this ticket, if any. */
    answerOf: async (ticket: string, customer: string): Promise<SurveyAnswer | null> =>
      readSurveyAnswer(await redis.get(keys.surveyAnswer(ticket, customer))),

    /** A survey just sent to `to`: its answer, texted back from that number, is filed on this ticket. */
    pend: async ({ to, ...pending }: Pending & { to: string }): Promise<void> => {
      await redis.set(keys.surveyPending(to), JSON.stringify(pending), 'EX', pendingSeconds)
    },

    /** A text from `from` read as the answer to the survey it was sent, if one waits and the text is a score. */
    fromSms: async (from: string, word: string, now: number): Promise<SmsSurveyOutcome> => {
      if (!/^\d{1,3}$/.test(word)) return { outcome: 'none' }
      const key = keys.surveyPending(from)
      const value = await redis.get(key)
      const pending = value === null ? null : readPending(value)
      if (!value || !pending) return { outcome: 'none' }
      const score = Number(word)
      // Off the scale: the survey keeps waiting, the customer is told the scale.
      if (!isSurveyScore(pending.kind, score)) return { outcome: 'out-of-range', kind: pending.kind }
      // Taken once: of two answers racing, or a survey sent meanwhile, only the one read here is filed.
      if ((await redis.getdel(key)) !== value) return { outcome: 'none' }
      const answer = { kind: pending.kind, score }
      if (pending.customer)
        return record({ ticket: pending.ticket, customer: pending.customer, ...answer }, now)
      const detail = surveyAnswerDetail(answer)
      const history = await answerHistoryOps(
        { notifications, prefix },
        { ticket: pending.ticket, from, value: detail, at: now },
      )
      await tickets.note(pending.ticket, 'ticket.survey_answered', 'customer', now, detail, history)
      return { outcome: 'recorded', answer }
    },
  }
}

export type SurveyAnswers = ReturnType<typeof createSurveyAnswers>
