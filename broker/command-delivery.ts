import { deviceTopicPrefix } from '../ingest/index.ts'

/**
 * The id of the device command a client acknowledged (issue 19), or null when the message was none: only a
 * device's own commands topic counts, so another client's PUBACK moves nothing.
 */
export function deliveredCommandId(clientId: string, topic: string, payload: Buffer): string | null {
  if (!topic.startsWith(`${deviceTopicPrefix(clientId)}commands/`)) return null
  try {
    const { id } = JSON.parse(payload.toString('utf8')) as { id?: unknown }
    return typeof id === 'string' ? id : null
  } catch {
    return null
  }
}
