export { type AirportSize, airportRules, buildAirportWorld } from './airport-world.ts'
export {
  fullYear,
  generateYear,
  type HistorySettings,
  type HistoryWorld,
  historyDeviceSecret,
  openShare,
  scaledYear,
  type YearOptions,
  type YearPhase,
  type YearProgress,
  type YearSize,
} from './generate-year.ts'
export { openStages } from './life-steps.ts'
export { createProgressPrinter } from './progress-printer.ts'
export type { YearSummary } from './year-summary.ts'
