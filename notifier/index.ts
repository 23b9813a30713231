export { type Channel, type ChannelName, type Content, createChannels } from './channels.ts'
export { refusal, retryAfterMs, transientFailure } from './delivery-error.ts'
export {
  backoffDelay,
  createDelivery,
  type Delivery,
  defaultRetry,
  type RetrySettings,
} from './delivery-queue.ts'
export {
  type Notification,
  type NotificationRequest,
  notificationRequestSchema,
  notificationSchema,
} from './notification-schema.ts'
export { createNotificationStore, type NotificationStore, notificationKeys } from './notification-store.ts'
export { createTwilioClient, type TwilioClient } from './twilio-client.ts'
