import { type SurveyKind, surveyScores } from '../domain/index.ts'
import type { LinkSigner } from './signed-links.ts'
import type { Language } from './templates.ts'

/** Who is asked what about which ticket: one survey sent. */
export type SurveyAsked = { ticket: string; customer: string; kind: SurveyKind; language: Language }

/**
 * The survey email's answers (issue 18): one signed link per score, `/s/<token>`, good for `lifetimeMs`
 * from when the survey goes out; the page behind it records the answer with one press (api/survey-link-routes.ts).
 */
export function createSurveyLinks({
  links,
  publicUrl,
  lifetimeMs,
}: {
  links: Pick<LinkSigner, 'survey'>
  publicUrl: string
  lifetimeMs: number
}) {
  return (asked: SurveyAsked, sentAt: number): { score: number; url: string }[] =>
    surveyScores(asked.kind).map((score) => ({
      score,
      url: `${publicUrl}/s/${links.survey.sign({
        t: asked.ticket,
        c: asked.customer,
        k: asked.kind,
        s: score,
        l: asked.language,
        exp: sentAt + lifetimeMs,
      })}`,
    }))
}

export type SurveyLinks = ReturnType<typeof createSurveyLinks>
