import { z } from 'zod'

/** The question a site asks after an all-clear (issue 18; ../shared/CONTEXT.md defines each). */
export const surveyKinds = ['csat', 'nps', 'ces'] as const
export const surveyKindSchema = z.enum(surveyKinds)
export type SurveyKind = z.infer<typeof surveyKindSchema>

/** The scores each question accepts: CSAT 1–5 satisfied, NPS 0–10 would recommend, CES 1–7 easy. */
export const surveyScales: Record<SurveyKind, { min: number; max: number }> = {
  csat: { min: 1, max: 5 },
  nps: { min: 0, max: 10 },
  ces: { min: 1, max: 7 },
}

/** Every score of a kind's scale, lowest first. */
export const surveyScores = (kind: SurveyKind): number[] => {
  const { min, max } = surveyScales[kind]
  return Array.from({ length: max - min + 1 }, (_, i) => min + i)
}

export const isSurveyScore = (kind: SurveyKind, score: number): boolean =>
  Number.isInteger(score) && score >= surveyScales[kind].min && score <= surveyScales[kind].max

export type SurveyAnswer = { kind: SurveyKind; score: number }

/** The detail of a `ticket.survey_answered` timeline entry: "nps:9". */
export const surveyAnswerDetail = ({ kind, score }: SurveyAnswer): string => `${kind}:${score}`

const detailPattern = /^(?:(csat|nps|ces):)?(\d{1,2})$/

/**
 * A timeline entry's answer, or null when it is none of ours. Entries written before issue 18 hold a bare
 * score ("4"): those were CSAT, the only survey then.
 */
export function readSurveyAnswer(detail: string | null): SurveyAnswer | null {
  const [, kind = 'csat', digits = ''] = detailPattern.exec(detail ?? '') ?? []
  const parsed = surveyKindSchema.safeParse(kind)
  if (!parsed.success || digits === '') return null
  const score = Number(digits)
  return isSurveyScore(parsed.data, score) ? { kind: parsed.data, score } : null
}
