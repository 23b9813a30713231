import { ruleKeys } from '../rules/index.ts'

/** Every Redis key the notifier reads or writes, under the deployment's prefix. */
export type NotificationKeys = ReturnType<typeof notificationKeys>

export function notificationKeys(prefix: string) {
  return {
    notification: (id: string) => `${prefix}notification:${id}`,
    /** A ticket's notifications by creation time. */
    ofTicket: (ticket: string) => `${prefix}notifications-of:${ticket}`,
    /** The newest notifications of every ticket (and digests) by creation time, for the messages panel. */
    recent: `${prefix}notifications-recent`,
    /** The provider's message id → our notification id, for delivery status callbacks. */
    byProviderId: (providerId: string) => `${prefix}notification-by-provider:${providerId}`,
    /** Outcomes counted for /metrics: field = status. */
    outcomes: `${prefix}notification-outcomes`,
    /** Numbers that replied STOP (a set): no SMS nor call until they reply START (api's Twilio webhooks). */
    optedOut: `${prefix}opted-out`,
    /** The ticket a survey sent to this number is about, until its answer comes back as an SMS. */
    surveyPending: (phone: string) => `${prefix}survey-pending:${phone}`,
    /** A customer's answer to a ticket's survey ("nps:9"), whatever the channel: the first one stands. */
    surveyAnswer: (ticket: string, customer: string) => `${prefix}survey-answer:${ticket}:${customer}`,
    /** The technician links' signing key, made once at random and shared by every process. */
    linkSecret: `${prefix}link-secret`,
    /** Messages sent to one recipient on one channel in the current window, and the texts folded for its digest. */
    rate: (channel: string, to: string) => `${prefix}rate:${channel}:${to}`,
    digest: (channel: string, to: string) => `${prefix}digest:${channel}:${to}`,
    /** Customers' records by id (JSON), and where each came from: site, api or deleted. */
    customers: `${prefix}customers`,
    customerOrigins: `${prefix}customer-origins`,
    /** A customer's history (named by rules/keys.ts): each customer's notification is entered in it. */
    customerHistory: ruleKeys(prefix).customerHistory,
    /** BullMQ's prefix for the delivery queue's keys. */
    bull: `${prefix}bull`,
    /** Issue 18: webhooks made through the API, by id (JSON); the site file's are not stored. */
    webhooks: `${prefix}webhooks`,
    /** One webhook's keys share its hash slot, so that its scripts may touch several. */
    webhook: (id: string) => webhookKeys(`${prefix}webhook:{${id}}:`),
  }
}

/** A webhook's keys, under `<prefix>webhook:{<id>}:`. */
function webhookKeys(base: string) {
  return {
    /** failingSince (ms, since the first failure after the last success) and pausedAt. */
    health: `${base}health`,
    /** Its newest attempts (a capped stream), for GET /api/webhooks/:id/deliveries. */
    attempts: `${base}attempts`,
    /** A delivery: the event's body and where it stands (JSON). */
    delivery: (delivery: string) => `${base}delivery:${delivery}`,
    /** Deliveries waiting in order for one ticket (or incident): a list, head first. */
    fifo: (order: string) => `${base}fifo:${order}`,
    /** Who may send that list's head: the id of the one job entitled to it; absent while held (paused). */
    fifoOwner: (order: string) => `${base}fifo-owner:${order}`,
    /** A counter making every job id of this webhook new, so BullMQ never takes one for a job it kept. */
    jobSeq: `${base}job-seq`,
    /** The order keys whose list holds something: what a resume schedules again. */
    fifos: `${base}fifos`,
  }
}

/** A customer subscription's group in the customer book: the set `customers:in:<kind>:<id>` of its subscribers. */
export const subscriptionGroup = (kind: 'site' | 'zone' | 'device', id: string): string => `${kind}:${id}`
