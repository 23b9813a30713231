import { createHmac } from 'node:crypto'

/**
 * `X-Vigie-Signature` (DESIGN.md § Contract added by wave 2): the time in unix seconds, and the hex
 * HMAC-SHA256 of "<t>.<raw body>" keyed by the webhook's secret; the time in the signed text stops replays.
 */
export function signWebhookBody({ secret, body, at }: { secret: string; body: string; at: number }): string {
  const t = Math.floor(at / 1000)
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')
  return `t=${t},v1=${v1}`
}
