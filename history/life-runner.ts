import type { Notification, NotificationStore } from '../notifier/index.ts'
import {
  type Dispatcher,
  type IncidentStore,
  isFinished,
  type Ticket,
  type TicketStore,
} from '../rules/index.ts'
import type { LifeStep, MessagePlan } from './life-steps.ts'
import type { createOfferMoves } from './offer-moves.ts'
import type { LifePlan } from './ticket-life.ts'

export type LifeStores = {
  incidents: IncidentStore
  tickets: TicketStore
  dispatcher: Dispatcher
  offers: ReturnType<typeof createOfferMoves>
  notifications: NotificationStore
}

/** What one life left behind: the ticket as it ends, its notifications, the incidents it raised. */
export type LifeOutcome = { ticket: Ticket; notifications: Notification[]; incidents: number }

const recordId = (ticketId: string, message: MessagePlan) =>
  `${ticketId}:${message.keySuffix}|${message.channel}`

/**
 * Lives one planned ticket through vigie's stores, step by step, each at its own time: the incident
 * flow's raise, clear and join, the ticket store's open, act and note, the dispatcher's moves, and the
 * notifier's records and the timeline entries its outcomes add.
 */
export async function liveLife(plan: LifePlan, steps: LifeStep[], stores: LifeStores): Promise<LifeOutcome> {
  const { incidents, tickets, dispatcher, offers, notifications } = stores
  const place = { site: plan.site, zone: plan.zone, device: plan.device?.id ?? null }
  let ticket: Ticket | null = null
  let raised = 0
  const records = new Map<string, Notification>()
  const current = (): Ticket => {
    if (!ticket) throw new Error(`ticket ${plan.index}: a step came before its incident opened it`)
    return ticket
  }

  for (const step of steps) {
    const { at } = step
    switch (step.kind) {
      case 'open':
      case 'rejoin': {
        const incident = await incidents.raise(
          { rule: plan.rule, correlationKey: plan.correlationKey, ...place },
          at,
          step.value,
        )
        raised++
        const opened = await tickets.openFor(incident, at)
        if (opened.created !== (step.kind === 'open'))
          throw new Error(
            `ticket ${plan.index}: ${plan.correlationKey} was ${opened.created ? 'free' : 'taken'}`,
          )
        ticket = opened.ticket
        break
      }
      case 'clear': {
        const cleared = await incidents.clear(plan.correlationKey, at, step.value)
        // As the incident flow does: an unfinished ticket hears of it; the verification timer is the worker's.
        if (cleared && !isFinished(current().status))
          ticket = await tickets.note(current().id, 'ticket.incident_cleared', 'telemetry', at, cleared.id)
        break
      }
      case 'offer':
        ticket = await offers.offer(current().id, step, at)
        break
      case 'withdraw':
        ticket = await offers.withdraw(current().id, step.technician, at, step.type, step.by)
        break
      case 'escalate':
        ticket = await offers.escalate(current().id, at, step.why)
        break
      case 'accept':
        ticket = await dispatcher.accept(current().id, step.by, at, step.note, { override: step.override })
        break
      case 'act':
        ticket = await tickets.act(current().id, step.action, step.by, at, step.detail)
        break
      case 'note':
        ticket = await tickets.note(current().id, step.type, step.by, at, step.detail)
        break
      case 'queue': {
        const { keySuffix: _, ...message } = step.message
        const record: Notification = {
          ...message,
          id: recordId(current().id, step.message),
          ticket: current().id,
          status: 'queued',
          attempts: 0,
          sentAt: null,
          sendStartedAt: null,
          providerId: null,
          error: null,
        }
        records.set(record.id, await notifications.open(record, at))
        break
      }
      case 'outcome': {
        const record = records.get(recordId(current().id, step.message))
        if (!record) throw new Error(`ticket ${plan.index}: an outcome for a message never queued`)
        const sent = step.status === 'sent'
        const next: Notification = {
          ...record,
          status: step.status,
          attempts: step.attempts,
          sentAt: sent ? new Date(at).toISOString() : null,
          providerId: step.providerId,
          error: step.error,
        }
        await notifications.save(next)
        records.set(next.id, next)
        // As the notifier's onOutcome notes it, so KPIs find the first customer notice on the timeline.
        const what = `${next.channel} to ${next.recipient} (${next.template})`
        ticket = await tickets.note(
          current().id,
          sent ? 'ticket.notified' : 'ticket.notification_failed',
          'notifier',
          at,
          next.error ? `${what}: ${next.error}` : what,
        )
        break
      }
      case 'receipt': {
        const record = records.get(recordId(current().id, step.message))
        if (!record) throw new Error(`ticket ${plan.index}: a receipt for a message never sent`)
        const delivered: Notification = { ...record, status: 'delivered' }
        await notifications.save(delivered)
        records.set(delivered.id, delivered)
        break
      }
    }
  }
  return { ticket: current(), notifications: [...records.values()], incidents: raised }
}
