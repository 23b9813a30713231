export { type ClockRange, isWithinClockRange } from './clock-range.ts'
export {
  type CommandArgSpec,
  type CommandCatalogue,
  type CommandSpec,
  commandArgSpecSchema,
  commandArgsSchema,
  commandCatalogueSchema,
  commandNameSchema,
} from './command-schema.ts'
export { ConfigError, type ConfigProblem, formatPath } from './config-error.ts'
export { demoSiteExposure, demoSiteNotice, takesConnections } from './demo-site-exposure.ts'
export { durationSchema, formatDuration, parseDuration } from './duration.ts'
export { type Config, demoSitePath, type LoadConfigOptions, loadConfig } from './load-config.ts'
export {
  type Contact,
  type Customer,
  customerRecordSchema,
  customerSchema,
  type Supervisor,
  type Technician,
  technicianRecordSchema,
  technicianSchema,
  weekdays,
} from './people-schema.ts'
export { type Condition, type Rule, type RuleInput, ruleSchema } from './rule-schema.ts'
export {
  type ServiceRole,
  type Settings,
  type SettingsInput,
  settingsEnv,
  settingsSchema,
  ticketTimelineDefaults,
} from './settings-schema.ts'
export {
  type ApiKey,
  type Device,
  deviceSchema,
  type MqttAccount,
  type Site,
  type SiteFile,
  type SiteFileInput,
  siteFileSchema,
} from './site-schema.ts'
export {
  emailSchema,
  idSchema,
  type Language,
  type Location,
  languageSchema,
  locationSchema,
  phoneSchema,
  type Role,
  roleSchema,
  type Severity,
  severitySchema,
} from './value-schemas.ts'
export { type Webhook, webhookEventPatternSchema, webhookSchema } from './webhook-schema.ts'
export { describeIssue, flattenIssues } from './zod-problems.ts'
