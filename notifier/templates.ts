import twilio from 'twilio'
import { escapeHtml, type SurveyKind } from '../domain/index.ts'
import type { Content } from './channels.ts'
import { surveyEmail, surveyText } from './survey-questions.ts'

export type Language = 'fr' | 'en'

/** What staff messages say about a ticket: what, where, how bad, how far, and where to look. */
export type TicketFacts = {
  rule: string
  severity: string
  site: string
  zone: string | null
  device: string | null
  etaMinutes?: number | undefined
  camera?: string | undefined
  intercom?: string | undefined
  link: string
  why?: string | undefined
  /** The offer's short code, quoted when the technician holds other offers: "reply 1 4F2". */
  code?: string | undefined
}

const severityWords: Record<Language, Record<string, string>> = {
  fr: { critical: 'CRITIQUE', major: 'MAJEUR', minor: 'mineur', info: 'info' },
  en: { critical: 'CRITICAL', major: 'MAJOR', minor: 'minor', info: 'info' },
}

const where = (f: TicketFacts) => [f.site, f.zone, f.device].filter(Boolean).join(' / ')
const quoted = (f: TicketFacts) => (f.code ? ` ${f.code}` : '')

const offerText: Record<Language, (f: TicketFacts) => string> = {
  fr: (f) =>
    `[vigie] ${severityWords.fr[f.severity] ?? f.severity} ${f.rule} — ${where(f)}.` +
    `${f.etaMinutes === undefined ? '' : ` Vous êtes à ${f.etaMinutes} min.`}` +
    `${f.camera ? ` Caméra : ${f.camera}.` : ''}${f.intercom ? ` Interphone : ${f.intercom}.` : ''}` +
    ` Répondez 1${quoted(f)} pour accepter, 2${quoted(f)} pour refuser.`,
  en: (f) =>
    `[vigie] ${severityWords.en[f.severity] ?? f.severity} ${f.rule} — ${where(f)}.` +
    `${f.etaMinutes === undefined ? '' : ` You are ${f.etaMinutes} min away.`}` +
    `${f.camera ? ` Camera: ${f.camera}.` : ''}${f.intercom ? ` Intercom: ${f.intercom}.` : ''}` +
    ` Reply 1${quoted(f)} to accept, 2${quoted(f)} to decline.`,
}

const escalationText: Record<Language, (f: TicketFacts) => string> = {
  fr: (f) =>
    `[vigie] ESCALADE ${severityWords.fr[f.severity] ?? f.severity} ${f.rule} — ${where(f)} : ${f.why ?? 'personne n’a accepté'}.`,
  en: (f) =>
    `[vigie] ESCALATED ${severityWords.en[f.severity] ?? f.severity} ${f.rule} — ${where(f)}: ${f.why ?? 'nobody accepted'}.`,
}

const pressKeys: Record<Language, string> = {
  fr: 'Appuyez sur 1 pour accepter, sur 2 pour refuser.',
  en: 'Press 1 to accept, 2 to decline.',
}
const voices: Record<Language, 'fr-FR' | 'en-GB'> = { fr: 'fr-FR', en: 'en-GB' }

function email(subject: string, text: string, link: string): Content {
  return {
    subject,
    text: `${text}\n\n${link}`,
    html: `<p>${escapeHtml(text)}</p><p><a href="${escapeHtml(link)}">${escapeHtml(link)}</a></p>`,
  }
}

/** A technician's offer: SMS and email with the signed link, and a call that says it twice then asks for a key. */
export function offerMessages({
  language,
  facts,
  gatherUrl,
  audioUrl,
}: {
  language: Language
  facts: TicketFacts
  /** Where Twilio posts the key pressed. */
  gatherUrl: string
  /** A site's recorded message, played instead of the spoken one. */
  audioUrl?: string | undefined
}): { sms: Content; voice: Content; email: Content } {
  const text = offerText[language](facts)
  const response = new twilio.twiml.VoiceResponse()
  const gather = response.gather({ numDigits: 1, action: gatherUrl, method: 'POST', timeout: 10 })
  const spoken = text.replace(/^\[vigie\] /, '').replace(/ (Répondez|Reply) .*$/, '')
  for (let i = 0; i < 2; i++) {
    if (audioUrl) gather.play(audioUrl)
    else gather.say({ language: voices[language] }, spoken)
  }
  gather.say({ language: voices[language] }, pressKeys[language])
  return {
    sms: { text: `${text} ${facts.link}` },
    voice: { text: spoken, twiml: response.toString() },
    email: email(
      `${severityWords[language][facts.severity] ?? facts.severity}: ${facts.rule}`,
      text,
      facts.link,
    ),
  }
}

export function escalationMessages({ language, facts }: { language: Language; facts: TicketFacts }) {
  const text = escalationText[language](facts)
  return {
    sms: { text: `${text} ${facts.link}` },
    email: email(text.replace(/^\[vigie\] /, ''), text, facts.link),
  }
}

/** A webhook paused (issue 18): the supervisors are told what to look at and how to resume it. */
export function webhookPausedMessages({
  language,
  webhook,
  reason,
  link,
}: {
  language: Language
  webhook: string
  reason: string
  link: string
}) {
  const text =
    language === 'fr'
      ? `[vigie] Webhook ${webhook} en pause : son destinataire échoue depuis trop longtemps (${reason}). Les envois attendent ; reprise par POST ${link}/resume.`
      : `[vigie] Webhook ${webhook} paused: its receiver has failed too long (${reason}). Deliveries are held; resume with POST ${link}/resume.`
  return { sms: { text }, email: email(text.replace(/^\[vigie\] /, ''), text, link) }
}

/** What customers are told: what is affected, in their words, never our internal ids alone. */
export type NoticeFacts = {
  what: string
  where: string
  etaMinutes?: number | undefined
  /** The site's survey (issue 18), and the email's signed one-click answers, one per score. */
  survey?: SurveyKind | undefined
  answerLinks?: { score: number; url: string }[] | undefined
}

const customerTexts: Record<
  'notice' | 'eta' | 'all-clear' | 'survey',
  Record<Language, (f: NoticeFacts) => string>
> = {
  notice: {
    fr: (f) =>
      `[vigie] ${f.what} — ${f.where}. Nous l’avons détecté et un technicien est en route${f.etaMinutes === undefined ? '' : ` (arrivée dans ${f.etaMinutes} min environ)`}.`,
    en: (f) =>
      `[vigie] ${f.what} — ${f.where}. We have detected it and a technician is on the way${f.etaMinutes === undefined ? '' : ` (about ${f.etaMinutes} min)`}.`,
  },
  eta: {
    fr: (f) =>
      `[vigie] ${f.what} — ${f.where} : le technicien est en route${f.etaMinutes === undefined ? '' : `, arrivée dans ${f.etaMinutes} min environ`}.`,
    en: (f) =>
      `[vigie] ${f.what} — ${f.where}: the technician is on the way${f.etaMinutes === undefined ? '' : `, about ${f.etaMinutes} min`}.`,
  },
  'all-clear': {
    fr: (f) => `[vigie] ${f.what} — ${f.where} : c’est réglé. Merci de votre patience.`,
    en: (f) => `[vigie] ${f.what} — ${f.where}: it is fixed. Thank you for your patience.`,
  },
  survey: {
    fr: (f) => surveyText(f.survey ?? 'csat', 'fr'),
    en: (f) => surveyText(f.survey ?? 'csat', 'en'),
  },
}

/** A customer message on every channel: SMS text, a spoken call, an email. */
export function customerMessages({
  kind,
  language,
  facts,
}: {
  kind: keyof typeof customerTexts
  language: Language
  facts: NoticeFacts
}): { sms: Content; voice: Content; email: Content } {
  const text = customerTexts[kind][language](facts)
  const response = new twilio.twiml.VoiceResponse()
  response.say({ language: voices[language] }, text.replace(/^\[vigie\] /, ''))
  return {
    sms: { text },
    voice: { text, twiml: response.toString() },
    email:
      kind === 'survey' && facts.answerLinks
        ? surveyEmail({ kind: facts.survey ?? 'csat', language, links: facts.answerLinks })
        : {
            subject: text.replace(/^\[vigie\] /, '').slice(0, 100),
            text,
            html: `<p>${escapeHtml(text)}</p>`,
          },
  }
}
