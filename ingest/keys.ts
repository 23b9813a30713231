/** Every Redis key ingest writes, under the deployment's prefix. */
export type IngestKeys = ReturnType<typeof ingestKeys>

export function ingestKeys(prefix: string) {
  return {
    device: (id: string) => `${prefix}device:${id}`,
    deviceIds: `${prefix}devices`,
    /** Bumped whenever a device is written: whoever caches devices reads them again. */
    devicesVersion: `${prefix}devices-version`,
    /** What the site file's devices section was when last provisioned: a salted scrypt digest (issue 17). */
    devicesDigest: `${prefix}devices-digest`,
    /** Held by the one process provisioning the site file's devices, so two starts never seed at once. */
    devicesProvisionLease: `${prefix}devices-provision-lease`,
    /** The durable readings log, one stream per shard; a device always lands in the same shard. */
    shard: (n: number) => `${prefix}log:${n}`,
    deviceReadings: (id: string) => `${prefix}readings:${id}`,
    recentSeqs: (id: string) => `${prefix}seqs:${id}`,
    state: (id: string) => `${prefix}state:${id}`,
    lastSeen: `${prefix}last-seen`,
    deadLetters: `${prefix}dead-letters`,
    deviceDeadLetters: (id: string) => `${prefix}dead-letters:${id}`,
    deadLetterCounts: `${prefix}dead-letter-counts`,
    /** Running totals for /metrics: readings stored, dead letters. */
    stats: `${prefix}stats`,
  }
}

/** FNV-1a: a stable, cheap spread of device ids over shards. */
export function shardOf(deviceId: string, shards: number): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < deviceId.length; i++) {
    hash ^= deviceId.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return (hash >>> 0) % shards
}
