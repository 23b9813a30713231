import { z } from 'zod'
import { isSurveyScore, surveyKindSchema } from '../domain/index.ts'

/**
 * What a survey answer link signs (issue 18): the ticket, the customer, the question, the score this link
 * records, the customer's language for the page, and an expiry. Short names: an NPS email holds eleven.
 */
export const surveyLinkPayloadSchema = z
  .strictObject({
    t: z.string().min(1).max(128),
    c: z.string().min(1).max(128),
    k: surveyKindSchema,
    s: z.number().int(),
    l: z.enum(['fr', 'en']),
    exp: z.number().int(),
  })
  .refine((p) => isSurveyScore(p.k, p.s), 'a score on its question’s scale')
export type SurveyLinkPayload = z.infer<typeof surveyLinkPayloadSchema>
