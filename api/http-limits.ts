import type { Server } from 'node:http'
import type { FastifyHttpOptions } from 'fastify'
import { type Settings, settingsSchema } from '../config/index.ts'
import type { RateLimitSettings } from './rate-limits.ts'
import type { WebSocketLimits } from './websocket-limits.ts'

/** Timeouts, caps and rate limits of the HTTP server (issue 15); README § Settings names each. */
export type ApiLimits = RateLimitSettings &
  WebSocketLimits &
  Pick<
    Settings,
    | 'httpRequestTimeout'
    | 'httpHeadersTimeout'
    | 'httpIdleTimeout'
    | 'httpKeepAliveTimeout'
    | 'httpMaxConnections'
    | 'httpTrustProxy'
    | 'mqttMaxPacketSize'
  >

/** The settings' own defaults, for an app built without them (tests of one part). */
export const defaultApiLimits: ApiLimits = settingsSchema.parse({})

// node looks for timed-out requests every 30 s by default, which would stretch a 10 s headers timeout to 40 s.
const timeoutCheckIntervalMs = 1000

/** fastify's options for the server's timeouts and the proxies it trusts. */
export function httpServerOptions(limits: ApiLimits): FastifyHttpOptions<Server> {
  return {
    // A socket silent this long, mid-request, is closed (node's socket timeout).
    connectionTimeout: limits.httpIdleTimeout,
    // The whole request, body included: a body trickled a byte at a time is cut off (408).
    requestTimeout: limits.httpRequestTimeout,
    keepAliveTimeout: limits.httpKeepAliveTimeout,
    http: {
      requestTimeout: limits.httpRequestTimeout,
      headersTimeout: limits.httpHeadersTimeout,
      connectionsCheckingInterval: timeoutCheckIntervalMs,
    },
    ...(limits.httpTrustProxy ? { trustProxy: limits.httpTrustProxy } : {}),
  }
}
