import { escapeHtml, type SurveyKind, surveyScales } from '../domain/index.ts'
import type { Content } from './channels.ts'
import type { Language } from './templates.ts'

type Wording = { question: string; reply: string; low: string; high: string }

/** Each survey's one question (../shared/CONTEXT.md), how to answer it by SMS, and what its ends mean. */
const wordings: Record<SurveyKind, Record<Language, Wording>> = {
  csat: {
    fr: {
      question: 'Êtes-vous satisfait de notre intervention ?',
      reply: 'Répondez de 1 (pas du tout) à 5 (très).',
      low: 'pas du tout',
      high: 'très',
    },
    en: {
      question: 'How satisfied are you with how we handled it?',
      reply: 'Reply 1 (not at all) to 5 (very).',
      low: 'not at all',
      high: 'very',
    },
  },
  nps: {
    fr: {
      question: 'Recommanderiez-vous notre service à un proche ou à un collègue ?',
      reply: 'Répondez de 0 (pas du tout) à 10 (certainement).',
      low: 'pas du tout',
      high: 'certainement',
    },
    en: {
      question: 'Would you recommend us to a friend or colleague?',
      reply: 'Reply 0 (not at all likely) to 10 (extremely likely).',
      low: 'not at all likely',
      high: 'extremely likely',
    },
  },
  ces: {
    fr: {
      question: 'Était-ce facile pour vous d’obtenir la résolution de ce problème ?',
      reply: 'Répondez de 1 (très difficile) à 7 (très facile).',
      low: 'très difficile',
      high: 'très facile',
    },
    en: {
      question: 'How easy was it for you to get this problem solved?',
      reply: 'Reply 1 (very hard) to 7 (very easy).',
      low: 'very hard',
      high: 'very easy',
    },
  },
}

const chooseWords: Record<Language, string> = {
  fr: 'Choisissez votre note ; un clic l’enregistre :',
  en: 'Choose your score; one click records it:',
}

/** The survey's question as an SMS (or a call) asks it: the question and the scale to reply with. */
export const surveyText = (kind: SurveyKind, language: Language): string =>
  `[vigie] ${wordings[kind][language].question} ${wordings[kind][language].reply}`

/** The question only, for the answer page's heading. */
export const surveyQuestion = (kind: SurveyKind, language: Language): string =>
  wordings[kind][language].question

/** The survey by email: the question and one signed link per score, each answering with one click. */
export function surveyEmail({
  kind,
  language,
  links,
}: {
  kind: SurveyKind
  language: Language
  links: { score: number; url: string }[]
}): Content {
  const w = wordings[kind][language]
  const { min, max } = surveyScales[kind]
  const ends = `${min} = ${w.low}, ${max} = ${w.high}`
  const buttons = links
    .map(
      ({ score, url }) =>
        `<a href="${escapeHtml(url)}" style="display:inline-block;min-width:2em;margin:0 4px 4px 0;padding:8px;border:1px solid #888;border-radius:4px;text-align:center;text-decoration:none">${score}</a>`,
    )
    .join('')
  return {
    subject: w.question,
    text: `${w.question}\n\n${chooseWords[language]} (${ends})\n\n${links.map(({ score, url }) => `${score}: ${url}`).join('\n')}`,
    html: `<p>${escapeHtml(w.question)}</p><p>${escapeHtml(chooseWords[language])} (${escapeHtml(ends)})</p><p>${buttons}</p>`,
  }
}
