import type { FastifyInstance } from 'fastify'
import type { Ingest } from '../ingest/index.ts'

/** DESIGN.md § HTTP API, devices part: provisioning, state, readings and dead letters. */
export function registerDeviceRoutes(_app: FastifyInstance, _ingest: Ingest): void {}
