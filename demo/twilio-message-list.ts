/** An SMS a Twilio stand-in accepted, as its message list shows it. */
export type ListedMessage = { sid: string; to: string; from: string; body: string; at: number }

// Twilio writes times as RFC 2822 with +0000, whole seconds.
const twilioTime = (ms: number) => new Date(ms).toUTCString().replace('GMT', '+0000')

/**
 * Twilio's answer to GET /2010-04-01/Accounts/{sid}/Messages.json: the messages filtered by To, From and
 * `DateSent>` (on or after; what the SDK's dateSentAfter sends), newest first, in one page of the JSON
 * list shape the twilio SDK reads (`messages` and the paging fields).
 */
export function twilioMessageList({
  path,
  query,
  messages,
  accountSid,
}: {
  path: string
  query: URLSearchParams
  messages: readonly ListedMessage[]
  accountSid: string
}) {
  const to = query.get('To')
  const from = query.get('From')
  const after = query.get('DateSent>')
  const since = after === null ? Number.NEGATIVE_INFINITY : Date.parse(after)
  const pageSize = Math.min(1000, Number(query.get('PageSize') ?? 50) || 50)
  const matching = messages
    .filter((m) => (to === null || m.to === to) && (from === null || m.from === from))
    // Whole seconds, as Twilio compares them.
    .filter((m) => Math.floor(m.at / 1000) * 1000 >= since)
    .sort((a, b) => b.at - a.at)
    .slice(0, pageSize)
  const uri = `${path}?${query.toString()}`
  return {
    messages: matching.map((m) => ({
      sid: m.sid,
      account_sid: accountSid,
      to: m.to,
      from: m.from,
      body: m.body,
      status: 'sent',
      direction: 'outbound-api',
      num_segments: '1',
      num_media: '0',
      api_version: '2010-04-01',
      date_created: twilioTime(m.at),
      date_updated: twilioTime(m.at),
      date_sent: twilioTime(m.at),
      error_code: null,
      error_message: null,
      price: null,
      price_unit: 'USD',
      messaging_service_sid: null,
      uri: `${path.replace(/\.json$/, '')}/${m.sid}.json`,
      subresource_uris: {},
    })),
    end: Math.max(0, matching.length - 1),
    first_page_uri: uri,
    next_page_uri: null,
    previous_page_uri: null,
    page: 0,
    page_size: pageSize,
    start: 0,
    uri,
  }
}
