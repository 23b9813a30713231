import type { SiteFile } from '../config/index.ts'
import type { WebhookEvent } from '../rules/index.ts'
import type { NotificationRequest } from './notification-schema.ts'
import { webhookPausedMessages } from './templates.ts'

/**
 * Issue 18: a webhook paused after a day of failures is told to every supervisor with a phone or an email,
 * once per pause (the event's stream id keys it), as an escalation is.
 */
export function webhookPausedRequests({
  world,
  publicUrl,
  event,
  eventId,
}: {
  world: Pick<SiteFile, 'dispatch'>
  publicUrl: string
  event: WebhookEvent
  eventId: string
}): NotificationRequest[] {
  const link = `${publicUrl}/api/webhooks/${encodeURIComponent(event.webhook.id)}`
  return world.dispatch.supervisors.flatMap((supervisor) => {
    const contacts = [
      ...(supervisor.phone ? [{ channel: 'sms' as const, to: supervisor.phone }] : []),
      ...(supervisor.email ? [{ channel: 'email' as const, to: supervisor.email }] : []),
    ]
    if (contacts.length === 0) return []
    const messages = webhookPausedMessages({
      language: supervisor.language === 'fr' ? 'fr' : 'en',
      webhook: event.webhook.id,
      reason: event.reason,
      link,
    })
    return [
      {
        key: `webhook-paused:${event.webhook.id}:${eventId}:${supervisor.id}`,
        ticket: null,
        event: eventId,
        audience: 'staff' as const,
        recipient: supervisor.id,
        template: 'webhook-paused',
        contacts,
        content: { sms: messages.sms, email: messages.email },
      },
    ]
  })
}
