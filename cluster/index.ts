export {
  type Haproxy,
  type HaproxyBackend,
  type HaproxyOptions,
  haproxyConfig,
  haproxyPath,
  startHaproxy,
} from './haproxy.ts'
export { type Cluster, startCluster } from './start-cluster.ts'
export { startVigieNode, type VigieNode } from './vigie-node.ts'
