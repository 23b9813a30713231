import { startSmtpServer } from './smtp-server.ts'
import { engageEnv, startTestService, type TestService, testTwilioAccount } from './test-service.ts'
import { type TwilioPhone, twilioPhone } from './twilio-phone.ts'
import { startTwilioServer, type TwilioServer } from './twilio-server.ts'
import { waitFor } from './wait-for.ts'

/** What the engaged tests read of a ticket. */
export type TicketView = {
  id: string
  status: string
  assignee: string | null
  offer: { technician: string; code?: string } | null
  createdAt: string
  timeline: { type: string; by: string; detail: string | null }[]
}

export type EngagedService = {
  world: TestService
  twilio: TwilioServer
  /** Twilio's side of the webhooks, signed as Twilio signs them. */
  phone: TwilioPhone
  ticket: (id: string) => Promise<TicketView>
  /** The device's newest ticket once it is offered to this technician. */
  offeredTo: (technician: string, device: string) => Promise<TicketView>
  close: () => Promise<void>
}

/** The whole service with its notifier sending to a Twilio-compatible server and a real SMTP server. */
export async function startEngagedService({
  site,
  authToken,
}: {
  site: string
  authToken: string
}): Promise<EngagedService> {
  const twilio = await startTwilioServer()
  const smtp = await startSmtpServer()
  const world = await startTestService({
    site,
    env: engageEnv({ twilioUrl: twilio.url, smtpUrl: smtp.url, authToken }),
  })
  const ticket = (id: string) => world.api<TicketView>(`/api/tickets/${id}`)
  return {
    world,
    twilio,
    phone: twilioPhone({ publicUrl: world.publicUrl, authToken, ...testTwilioAccount }),
    ticket,
    offeredTo: (technician, device) =>
      waitFor(
        async () => {
          const { items } = await world.api<{ items: TicketView[] }>(`/api/tickets?device=${device}`)
          return items[0]?.offer?.technician === technician ? ticket(items[0].id) : undefined
        },
        { what: `the ${device} ticket offered to ${technician}` },
      ),
    close: async () => {
      await world.close()
      await twilio.close()
      await smtp.close()
    },
  }
}
