import { realpathSync } from 'node:fs'
import type { ConfigProblem } from './config-error.ts'
import type { Settings } from './settings-schema.ts'

// Issue 15: the demo site's device secrets are in the repository, so whoever reaches it can be its devices.

/** Where the demo site listens unless BIND_HOST says otherwise. */
export const demoSiteHost = '127.0.0.1'

const loopbackHost = /^(127(\.\d{1,3}){3}|::1|localhost)$/

/** Whether the site file is the demo site's own (by its real path, so a link to it counts too). */
export function isDemoSite(sitePath: string, demoSitePath: string): boolean {
  try {
    return realpathSync(sitePath) === realpathSync(demoSitePath)
  } catch {
    return false
  }
}

/** Whether this process takes connections: the API, or the broker unless it reads a broker of the fleet's. */
export function takesConnections({ roles, mqttExternalUrl }: Pick<Settings, 'roles' | 'mqttExternalUrl'>) {
  return roles.includes('api') || (roles.includes('broker') && mqttExternalUrl === undefined)
}

/**
 * A start on the demo site that would listen beyond loopback, unless the demo was asked for (`--demo`,
 * `npm run demo`): the problem to refuse it with. BIND_HOST is the only way there, as the demo file sets nothing.
 */
export function demoSiteExposure(
  { demoSite, settings }: { demoSite: boolean; settings: Settings },
  { demoAsked }: { demoAsked: boolean },
): ConfigProblem | undefined {
  if (!demoSite || demoAsked || !takesConnections(settings) || loopbackHost.test(settings.bindHost)) {
    return undefined
  }
  return {
    where: 'environment variable BIND_HOST',
    path: '',
    message: `the demo site's device secrets are public, so it is served on loopback only: set VIGIE_CONFIG to your own site file, or start with --demo to serve the demo site on "${settings.bindHost}" anyway`,
  }
}

/** The line a start on the demo site prints when the demo was not asked for. */
export function demoSiteNotice(settings: Pick<Settings, 'bindHost'>): string {
  return `vigie: the demo site's device secrets are public, so it is served on ${settings.bindHost} only; set VIGIE_CONFIG to your own site file to serve devices on the network`
}
