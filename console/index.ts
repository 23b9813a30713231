export { registerConsoleRoutes } from './console-routes.ts'
export { type SurveyPageState, surveyLinkRefusedPage, surveyPage } from './survey-page.ts'
export {
  type CommandLine,
  commandLine,
  type DeviceCommandsView,
} from './technician-commands.ts'
export { clockOf, type TechnicianPageWorld, technicianActions, technicianPage } from './technician-page.ts'
