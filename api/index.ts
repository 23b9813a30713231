export { type ApiKeyVerifier, createApiKeyVerifier, hashApiKey, type Principal } from './api-key-auth.ts'
export { type ApiOptions, buildApi } from './build-api.ts'
export { toVigieError } from './error-handler.ts'
export { createReadiness, type Readiness } from './readiness.ts'
