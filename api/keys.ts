/** Every Redis key the API writes itself, under the deployment's prefix (not to be confused with API keys). */
export type ApiRedisKeys = ReturnType<typeof apiRedisKeys>

export function apiRedisKeys(prefix: string) {
  return {
    /** A Twilio webhook already handled, by the hash of its signature: a replay changes nothing twice. */
    webhookSeen: (signatureHash: string) => `${prefix}webhook-seen:${signatureHash}`,
    /** @fastify/rate-limit's namespace: its counters are this plus the caller's key. */
    rateLimit: `${prefix}rate-limit:`,
  }
}
