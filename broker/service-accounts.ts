import type { MqttAccount } from '../config/index.ts'
import { hashSecret, verifySecret } from '../ingest/index.ts'
import type { MqttIdentity } from './access-policy.ts'

export type ServiceAccounts = {
  authenticate: (username: string, password: string) => Promise<MqttIdentity | null>
}

/** The site file's mqttAccounts; clear passwords are hashed once at start and dropped. */
export async function createServiceAccounts(accounts: MqttAccount[]): Promise<ServiceAccounts> {
  const entries = new Map(
    await Promise.all(
      accounts.map(async ({ username, password, passwordHash, publish, subscribe, deny }) => {
        const hash = passwordHash ?? (await hashSecret(password ?? ''))
        const identity: MqttIdentity = { type: 'account', username, publish, subscribe, deny }
        return [username, { hash, identity }] as const
      }),
    ),
  )
  return {
    authenticate: async (username, password) => {
      const entry = entries.get(username)
      if (!entry) return null
      return (await verifySecret(password, entry.hash)) ? entry.identity : null
    },
  }
}
