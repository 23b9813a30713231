import { once } from 'node:events'
import { describe, expect, it } from 'vitest'
import { startBrokerHarness } from '../support/broker-harness.ts'
import { heldLogin } from '../support/raw-mqtt.ts'
import { waitFor } from '../support/wait-for.ts'

describe('closing the broker', () => {
  it('ends connections whose login is still being answered instead of waiting for them', async () => {
    // A refused login is held for a minute: at close, its connection is neither a client nor gone.
    const harness = await startBrokerHarness({ mqttAuthFailureDelay: 60_000 })
    const login = heldLogin(harness.port, 'temp-1')
    await waitFor(() => harness.broker.loginsPending() === 1, { what: 'the login held' })
    const ended = once(login.socket, 'close')
    const closed = harness.close().then(() => 'closed' as const)
    const outcome = await Promise.race([
      closed,
      ended.then(() => closed),
      new Promise<'stuck'>((resolve) => setTimeout(() => resolve('stuck'), 10_000).unref()),
    ])
    expect(outcome).toBe('closed')
    expect(login.code()).toBeUndefined()
  })
})
