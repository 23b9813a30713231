// MQTT 3.1.1 § 4.7 topic filters: "+" one level, "#" the rest; "$" topics are not matched by a leading wildcard.

export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false // [MQTT-4.7.2-1]
  const f = filter.split('/')
  const t = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true
    if (i >= t.length) return false
    if (f[i] !== '+' && f[i] !== t[i]) return false
  }
  return f.length === t.length
}

/** True when every topic the requested filter matches is also matched by the allowed one. */
export function filterCovers(allowed: string, requested: string): boolean {
  if (
    requested.startsWith('$') !== allowed.startsWith('$') &&
    (allowed.startsWith('#') || allowed.startsWith('+'))
  ) {
    return false
  }
  const a = allowed.split('/')
  const r = requested.split('/')
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '#') return true
    if (i >= r.length || r[i] === '#') return false
    if (a[i] === '+') continue
    if (r[i] === '+' || a[i] !== r[i]) return false
  }
  return a.length === r.length
}
