import type { FastifyInstance, FastifyReply } from 'fastify'
import { z } from 'zod'
import { type SurveyPageState, surveyLinkRefusedPage, surveyPage } from '../console/index.ts'
import { type Clock, isVigieError } from '../domain/index.ts'
import {
  type LinkSigner,
  type SurveyAnswers,
  type SurveyLinkPayload,
  surveyQuestion,
} from '../notifier/index.ts'
import { pageHeaders } from './technician-link-routes.ts'

// The router refuses a path parameter over 1,024 characters (build-api's maxParamLength) before this runs.
const params = z.object({ token: z.string().min(10).max(1024) })

/**
 * The survey email's one-click answers (issue 18), `/s/<signed token>`: no API key, the signature and its
 * expiry are the credential, naming one ticket, one customer and one score. GET only shows the answer
 * and its button, since mail scanners fetch links; the button's POST records it, once per customer and ticket.
 */
export function registerSurveyLinkRoutes(
  app: FastifyInstance,
  { links, surveys, clock }: { links: Pick<LinkSigner, 'survey'>; surveys: SurveyAnswers; clock: Clock },
): void {
  const opened = (raw: unknown): { token: string; payload: SurveyLinkPayload } | null => {
    const parsed = params.safeParse(raw)
    const payload = parsed.success ? links.survey.verify(parsed.data.token, clock.now()) : null
    return parsed.success && payload ? { token: parsed.data.token, payload } : null
  }
  const html = (reply: FastifyReply, status: number, body: string) =>
    reply.status(status).headers(pageHeaders).type('text/html; charset=utf-8').send(body)
  const send = (reply: FastifyReply, status: number, payload: SurveyLinkPayload, page: SurveyPageState) =>
    html(
      reply,
      status,
      surveyPage({ language: payload.l, question: surveyQuestion(payload.k, payload.l), page }),
    )

  const config = { access: 'public' as const }
  void app.register(async (scope) => {
    // The page's button posts an empty form; whatever a form holds is ignored.
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 1024 },
      (_request, _body, done) => done(null, {}),
    )

    scope.get('/s/:token', { config, schema: { hide: true } }, async (request, reply) => {
      const link = opened(request.params)
      if (!link) return html(reply, 403, surveyLinkRefusedPage())
      const { payload, token } = link
      const answered = await surveys.answerOf(payload.t, payload.c)
      return answered
        ? send(reply, 200, payload, { state: 'already', score: answered.score })
        : send(reply, 200, payload, { state: 'confirm', score: payload.s, token })
    })

    scope.post('/s/:token', { config, schema: { hide: true } }, async (request, reply) => {
      const link = opened(request.params)
      if (!link) return html(reply, 403, surveyLinkRefusedPage())
      const { payload } = link
      try {
        const done = await surveys.record(
          { ticket: payload.t, customer: payload.c, kind: payload.k, score: payload.s },
          clock.now(),
        )
        return done.outcome === 'recorded'
          ? send(reply, 200, payload, { state: 'thanks', score: done.answer.score })
          : send(reply, 409, payload, { state: 'already', score: done.answer?.score ?? null })
      } catch (error) {
        // The ticket is gone (compacted away): nothing to file the answer on.
        if (isVigieError(error) && error.code === 'NOT_FOUND')
          return send(reply, 410, payload, { state: 'closed' })
        throw error
      }
    })
  })
}
