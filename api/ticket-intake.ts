import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { emailSchema, idSchema, phoneSchema, type SiteFile, severitySchema } from '../config/index.ts'
import { type Clock, VigieError } from '../domain/index.ts'
import { type TicketIntake, type TicketReport, ticketSchema } from '../rules/index.ts'
import { errorResponseSchema } from './response-shapes.ts'

/** POST /api/tickets: strict, every string bounded, so a stranger's body is refused whole, not trimmed. */
export const ticketReportBodySchema = z.strictObject({
  site: idSchema,
  zone: idSchema.optional(),
  device: z.string().min(1).max(256).optional(),
  title: z.string().trim().min(1).max(200),
  severity: severitySchema,
  /** The skill the technician needs; none: anyone on shift. */
  skill: z.string().min(1).max(64).optional(),
  reporter: z.strictObject({
    name: z.string().trim().min(1).max(120),
    phone: phoneSchema.optional(),
    email: emailSchema.max(254).optional(),
    /** A customer of the customer book: the ticket enters their history. */
    customer: idSchema.optional(),
  }),
  externalRef: z.strictObject({
    /** Who keeps the reference (a CRM's name): one ticket per source and id. */
    source: idSchema,
    id: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces'),
  }),
})
type ReportBody = z.infer<typeof ticketReportBodySchema>

type DevicePlace = { site: string; zone?: string | undefined }

/**
 * DESIGN.md § Contract added by wave 2, tickets from outside (issue 18): a dispatcher (or a CRM with a
 * dispatcher's key) opens a ticket someone reported. 201 with the new ticket, dispatched; the same
 * `externalRef` again answers 200 with the ticket it opened, decided in the ticket's own write.
 */
export function registerTicketIntake(
  app: FastifyInstance,
  {
    intake,
    world,
    deviceOf,
    customerExists,
    clock,
  }: {
    intake: TicketIntake
    world: Pick<SiteFile, 'sites'>
    /** Where a device is: the site file's or the registry's; null when there is no such device. */
    deviceOf: (id: string) => Promise<DevicePlace | null>
    customerExists: (id: string) => Promise<boolean>
    clock: Clock
  },
): void {
  const refused = (path: string, message: string) =>
    new VigieError({ code: 'VALIDATION_FAILED', message, details: [{ path: `body.${path}`, message }] })

  /** The place named, checked against the site file and the registry: each unknown part is named. */
  async function placeOf(body: ReportBody): Promise<Pick<TicketReport, 'site' | 'zone' | 'device'>> {
    const site = world.sites.find((s) => s.id === body.site)
    if (!site) throw refused('site', `No site ${body.site}`)
    if (body.zone !== undefined && !site.zones.some((z) => z.id === body.zone))
      throw refused('zone', `No zone ${body.zone} at site ${site.id}`)
    if (body.device === undefined) return { site: site.id, zone: body.zone ?? null, device: null }
    const device = await deviceOf(body.device)
    if (!device) throw refused('device', `No device ${body.device}`)
    if (device.site !== site.id) throw refused('device', `Device ${body.device} is not at site ${site.id}`)
    if (body.zone !== undefined && device.zone !== body.zone)
      throw refused('zone', `Device ${body.device} is not in zone ${body.zone}`)
    return { site: site.id, zone: device.zone ?? null, device: body.device }
  }

  app.withTypeProvider<ZodTypeProvider>().post(
    '/api/tickets',
    {
      config: { access: ['dispatcher'] },
      schema: {
        tags: ['tickets'],
        summary:
          'Opens a ticket someone reported (a call, a CRM case) and dispatches it; 201 with it, or 200 with the ticket its externalRef opened before',
        body: ticketReportBodySchema,
        response: {
          200: ticketSchema,
          201: ticketSchema,
          400: errorResponseSchema,
          401: errorResponseSchema,
          403: errorResponseSchema,
        },
      },
    },
    async (request, reply) => {
      const { body } = request
      const place = await placeOf(body)
      if (body.reporter.customer !== undefined && !(await customerExists(body.reporter.customer)))
        throw refused('reporter.customer', `No customer ${body.reporter.customer}`)
      const by = request.principal?.name ?? 'api'
      const { ticket, created } = await intake.open(
        {
          ...place,
          title: body.title,
          severity: body.severity,
          skill: body.skill,
          reporter: body.reporter,
          externalRef: body.externalRef,
        },
        by,
        clock.now(),
      )
      return reply.status(created ? 201 : 200).send(ticket)
    },
  )
}
