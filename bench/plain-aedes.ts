// The baseline of the ingest benchmark: aedes with its default handlers (no authentication, no ingest),
// relaying what it receives. Run by bench/ingest-bench.ts: node --import tsx bench/plain-aedes.ts <port>
import { createServer } from 'node:net'
import { Aedes } from 'aedes'

const port = Number(process.argv[2])
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: node --import tsx bench/plain-aedes.ts <port>')
  process.exit(2)
}

const aedes = await Aedes.createBroker()
const server = createServer(aedes.handle)

let closing = false
function stop(): void {
  if (closing) return
  closing = true
  server.close()
  aedes.close(() => process.exit(0))
  setTimeout(() => process.exit(0), 5000).unref()
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
// The bench holds our stdin open: when it ends, however it ended, so do we.
process.stdin.on('end', stop)
process.stdin.resume()

server.listen({ port, host: '127.0.0.1' }, () => console.log(`plain aedes listening on ${port}`))
