import type { Rule } from '../config/index.ts'

/**
 * Zone-wide rules (`group: { by, atLeast, within }`): members raise and clear one by one; the group
 * opens one incident when atLeast of them raised within the window, and clears when fewer stay raised.
 */
export type GroupMembers = Map<string, number>

export type GroupChange = 'open' | 'clear' | null

export function groupKeyOf(rule: Rule, place: { site: string; zone?: string | undefined }): string | null {
  if (!rule.group) return null
  const where = rule.group.by === 'zone' ? place.zone : place.site
  return where === undefined ? null : `${rule.id}:${rule.group.by}:${where}`
}

/** Applies one member's change; says whether the group incident opens or clears. */
export function applyMember({
  rule,
  members,
  open,
  device,
  raised,
  at,
}: {
  rule: Rule
  members: GroupMembers
  open: boolean
  device: string
  raised: boolean
  at: number
}): GroupChange {
  const group = rule.group
  if (!group) return null
  if (raised) members.set(device, at)
  else members.delete(device)
  const recent = [...members.values()].filter((since) => at - since <= group.within).length
  if (!open && raised && recent >= group.atLeast) return 'open'
  if (open && members.size < group.atLeast) return 'clear'
  return null
}
