/** Every Redis key the stream consumers share, under the deployment's prefix. */
export type StreamKeys = ReturnType<typeof streamKeys>

export function streamKeys(prefix: string) {
  return {
    /** Stream entries given up on, with their reason (field `w`, JSON); the newest ~100,000 are kept. */
    failedWork: `${prefix}failed-work`,
    /** How many entries each source gave up on since the deployment began: source → count. */
    failedWorkCounts: `${prefix}failed-work-counts`,
  }
}
