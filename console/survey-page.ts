import { escapeHtml } from '../domain/index.ts'

type Language = 'fr' | 'en'

/** What the page behind a survey link says: ask to confirm, thanks, already answered, or a refusal. */
export type SurveyPageState =
  | { state: 'confirm'; score: number; token: string }
  | { state: 'thanks'; score: number }
  | { state: 'already'; score: number | null }
  | { state: 'closed' }

const words: Record<
  Language,
  {
    title: string
    chose: (score: number) => string
    press: (score: number) => string
    thanks: (score: number) => string
    already: (score: number | null) => string
    closed: string
  }
> = {
  fr: {
    title: 'Votre avis',
    chose: (s) => `Vous avez choisi ${s}.`,
    press: (s) => `Enregistrer ma réponse : ${s}`,
    thanks: (s) => `Merci ! Votre réponse (${s}) est enregistrée.`,
    already: (s) =>
      `Votre réponse${s === null ? '' : ` (${s})`} était déjà enregistrée ; elle reste telle quelle. Merci !`,
    closed: 'Cette enquête est close. Merci quand même !',
  },
  en: {
    title: 'Your feedback',
    chose: (s) => `You chose ${s}.`,
    press: (s) => `Record my answer: ${s}`,
    thanks: (s) => `Thank you! Your answer (${s}) is recorded.`,
    already: (s) =>
      `Your answer${s === null ? '' : ` (${s})`} was already recorded; it stays as it was. Thank you!`,
    closed: 'This survey is closed. Thank you all the same!',
  },
}

const shell = (language: Language | 'fr-en', title: string, body: string) =>
  `<!doctype html><html lang="${language === 'fr-en' ? 'fr' : language}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>vigie — ${escapeHtml(title)}</title><link rel="stylesheet" href="/console/console.css"></head>
<body class="technician survey"><main>${body}</main></body></html>`

/**
 * The page behind a survey email's link (issue 18), in the customer's language. Opening it records
 * nothing (mail scanners open links): the answer is recorded by its one button, a POST.
 */
export function surveyPage({
  language,
  question,
  page,
}: {
  language: Language
  question: string
  page: SurveyPageState
}): string {
  const w = words[language]
  const heading = `<header><h1>${escapeHtml(w.title)}</h1></header><p class="question">${escapeHtml(question)}</p>`
  const message = (text: string) => `<p class="message" role="status">${escapeHtml(text)}</p>`
  if (page.state === 'confirm')
    return shell(
      language,
      w.title,
      `${heading}<p>${escapeHtml(w.chose(page.score))}</p><div class="actions"><form method="post" action="${escapeHtml(`/s/${page.token}`)}"><button class="action action-ack" type="submit">${escapeHtml(w.press(page.score))}</button></form></div>`,
    )
  if (page.state === 'thanks') return shell(language, w.title, heading + message(w.thanks(page.score)))
  if (page.state === 'already') return shell(language, w.title, heading + message(w.already(page.score)))
  return shell(language, w.title, heading + message(w.closed))
}

/** A link that is not ours, tampered with or expired: nothing in it can be trusted, so both languages. */
export function surveyLinkRefusedPage(): string {
  return shell(
    'fr-en',
    'Lien non valide — Link not valid',
    `<header><h1>Lien non valide — Link not valid</h1></header>
<p class="message" role="status">Ce lien n’est pas valide ou a expiré ; rien n’a été enregistré.</p>
<p class="message" lang="en" role="status">This link is not valid or has expired; nothing was recorded.</p>`,
  )
}
