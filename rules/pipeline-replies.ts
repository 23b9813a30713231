/** The reply to a pipeline's i-th command, or that command's error thrown (a missing reply too). */
export function replyAt(replies: [Error | null, unknown][] | null, i: number): unknown {
  const [error, reply] = replies?.[i] ?? [new Error(`no reply to the pipeline's command ${i}`), null]
  if (error) throw error
  return reply
}
