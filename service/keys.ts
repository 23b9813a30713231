/** Every Redis key the service's own parts write, under the deployment's prefix. */
export type ServiceKeys = ReturnType<typeof serviceKeys>

export function serviceKeys(prefix: string) {
  return {
    /** Who runs the retention sweep this period (service/retention-sweep.ts). */
    retentionLease: `${prefix}retention-lease`,
  }
}
