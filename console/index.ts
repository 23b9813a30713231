export { registerConsoleRoutes } from './console-routes.ts'
export { type TechnicianPageWorld, technicianActions, technicianPage } from './technician-page.ts'
