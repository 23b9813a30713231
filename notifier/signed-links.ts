import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Redis } from 'ioredis'
import { z } from 'zod'
import { type SurveyLinkPayload, surveyLinkPayloadSchema } from './survey-link-payload.ts'

// Exactly two base64url segments: Node's decoder skips foreign characters, so a loose token would verify.
const tokenPattern = /^[A-Za-z0-9_-]{1,2048}\.[A-Za-z0-9_-]{43}$/

const payloadSchema = z.object({ ticket: z.string(), technician: z.string(), exp: z.number().int() })
export type LinkPayload = z.infer<typeof payloadSchema>

/** Signs and checks one kind of payload with one key: `<base64url JSON>.<base64url HMAC-SHA256>`. */
function tokensOf<T extends { exp: number }>(secret: Buffer, schema: z.ZodType<T>) {
  const mac = (body: string) => createHmac('sha256', secret).update(body).digest()
  return {
    sign: (payload: T): string => {
      const body = Buffer.from(JSON.stringify(payload)).toString('base64url')
      return `${body}.${mac(body).toString('base64url')}`
    },
    /** The payload of a well-signed token unexpired at `now`, or null. */
    verify: (token: string, now: number): T | null => {
      if (!tokenPattern.test(token)) return null
      const [body = '', signature = ''] = token.split('.')
      // Compared as text: base64url's last character carries 2 unused bits, so 4 spellings decode alike.
      const given = Buffer.from(signature)
      const expected = Buffer.from(mac(body).toString('base64url'))
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null
      try {
        const payload = schema.parse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')))
        return payload.exp > now ? payload : null
      } catch {
        return null
      }
    },
  }
}

/**
 * The technician page's links (`/t/<token>`): the ticket, the technician and an expiry, HMAC-SHA256 signed.
 * The key is shared through Redis (made once, at random) so every process signs and checks alike.
 * `survey` signs the survey's one-click answers (`/s/<token>`) with a key derived for them alone, so
 * neither kind of token is ever taken for the other.
 */
export async function createLinkSigner({ redis, key }: { redis: Redis; key: string }) {
  await redis.set(key, randomBytes(32).toString('base64url'), 'NX')
  const secret = Buffer.from((await redis.get(key)) ?? '', 'base64url')
  const surveySecret = createHmac('sha256', secret).update('vigie survey answer links').digest()
  return {
    ...tokensOf<LinkPayload>(secret, payloadSchema),
    survey: tokensOf<SurveyLinkPayload>(surveySecret, surveyLinkPayloadSchema),
  }
}

export type LinkSigner = Awaited<ReturnType<typeof createLinkSigner>>
