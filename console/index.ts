export { registerConsoleRoutes } from './console-routes.ts'
export { type SurveyPageState, surveyLinkRefusedPage, surveyPage } from './survey-page.ts'
export { type TechnicianPageWorld, technicianActions, technicianPage } from './technician-page.ts'
