import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export function makeTempDir(label = 'vigie-test-'): string {
  return mkdtempSync(join(tmpdir(), label))
}

/** Writes text to a new file in a fresh temp directory and returns its path. */
export function writeTempFile(name: string, text: string): string {
  const path = join(makeTempDir(), name)
  writeFileSync(path, text)
  return path
}
