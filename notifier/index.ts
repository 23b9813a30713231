export { type Channel, type ChannelName, type Content, createChannels } from './channels.ts'
export { type CustomerBook, createCustomerBook } from './customer-book.ts'
export {
  answerHistoryOps,
  type CustomerHistory,
  type CustomerHistoryEntry,
  createCustomerHistory,
  customerHistoryEntrySchema,
} from './customer-history.ts'
export { type CustomerNotices, createCustomerNotices, quietUntil } from './customer-notices.ts'
export { refusal, retryAfterMs, transientFailure } from './delivery-error.ts'
export {
  backoffDelay,
  createDelivery,
  createDeliveryQueueCounts,
  type Delivery,
  defaultRetry,
  type RetrySettings,
} from './delivery-queue.ts'
export { createDigests, type DigestSettings, type Digests, defaultDigest } from './digests.ts'
export { createEventConsumer } from './event-consumer.ts'
export { type NotificationKeys, notificationKeys } from './keys.ts'
export {
  type Notification,
  type NotificationRequest,
  notificationRequestSchema,
  notificationSchema,
} from './notification-schema.ts'
export { createNotificationStore, type NotificationStore } from './notification-store.ts'
export { createSentLookups, type SentLookup } from './sent-lookup.ts'
export { createLinkSigner, type LinkPayload, type LinkSigner } from './signed-links.ts'
export { createStaffNotices, type StaffNotices } from './staff-notices.ts'
export { startNotifier } from './start-notifier.ts'
export {
  createSurveyAnswers,
  type SmsSurveyOutcome,
  type SurveyAnswers,
  type SurveyOutcome,
} from './survey-answers.ts'
export type { SurveyLinkPayload } from './survey-link-payload.ts'
export { createSurveyLinks, type SurveyLinks } from './survey-links.ts'
export { surveyQuestion } from './survey-questions.ts'
export { escalationMessages, offerMessages } from './templates.ts'
export { createTwilioClient, type TwilioClient } from './twilio-client.ts'
export { createWebhookAdmin, type WebhookAdmin } from './webhook-admin.ts'
export { type WebhookAttempt, webhookAttemptSchema } from './webhook-attempts.ts'
export { unknownEventPatterns, webhookEventTypes } from './webhook-match.ts'
export { signWebhookBody } from './webhook-signature.ts'
export {
  claimsWhatsapp,
  phoneOfAddress,
  whatsappAddress,
  whatsappAddressSchema,
} from './whatsapp-address.ts'
