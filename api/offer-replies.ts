import type { SiteFile } from '../config/index.ts'
import { codeOf, offerCodePattern, type Ticket } from '../rules/index.ts'

const accepts = new Set(['1', 'OK', 'OUI', 'YES'])
const declines = new Set(['2', 'NO', 'NON'])

/** A technician's SMS read as an answer: its first word, and the offer code after it ("1 4F2"), if any. */
export type OfferReply = { word: string; answer: 'accept' | 'decline' | null; code: string | null }

export function readOfferReply(body: string): OfferReply {
  const text = body.trim().toUpperCase()
  // The first word decides; whatever follows ("oui, j'arrive") is ignored, but a code right after it counts.
  const [, word = '', next = ''] = /^([\p{L}0-9]+)(?:\s+([0-9A-Z]+)(?![\p{L}0-9'’]))?/u.exec(text) ?? []
  const answer = accepts.has(word) ? 'accept' : declines.has(word) ? 'decline' : null
  return { word, answer, code: offerCodePattern.test(next) ? next : null }
}

/** At most this many offers are listed in one answer: it is an SMS. */
const listed = 5

/**
 * Which of a technician's open offers a reply acts on: the one it names by code, or the only one; else the
 * answer that asks which (listing the codes and what each is), or says the code matches none.
 */
export function chooseOffer({
  offers,
  reply,
  world,
}: {
  offers: Ticket[]
  reply: OfferReply
  world?: Pick<SiteFile, 'sites' | 'rules'> | undefined
}): { ticket: Ticket } | { text: string } {
  if (offers.length === 0) return { text: 'No offer waits for you.' }
  const named = reply.code === null ? offers : offers.filter((t) => codeOf(t) === reply.code)
  const [only] = named
  if (named.length === 1 && only) return { ticket: only }
  const what = (t: Ticket) => {
    const site = world?.sites.find((s) => s.id === t.site)
    const zone = site?.zones.find((z) => z.id === t.zone)?.name ?? t.zone
    const rule = world?.rules.find((r) => r.id === t.rule)?.name ?? t.rule
    return `${rule} — ${[site?.name ?? t.site, zone, t.device].filter(Boolean).join(' / ')}`
  }
  const key = reply.answer === 'decline' ? '2' : '1'
  const choices = offers
    .slice(0, listed)
    .map((t) => `${key} ${codeOf(t)} (${what(t)})`)
    .join(' or ')
  const more =
    offers.length > listed ? `; ${offers.length - listed} more: use the links in their messages` : ''
  const list = `You have ${offers.length} open offer${offers.length === 1 ? '' : 's'}: reply ${choices}${more}.`
  if (named.length === 0) return { text: `No open offer of yours has the code ${reply.code}. ${list}` }
  return { text: list }
}
