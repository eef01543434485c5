// Test hosts from network namespaces: the network (hosts, LANs, links), osad2 on them, and the
// probe that says whether this machine allows any of it.
export { TestNetwork, type Host, type Lan, type Link, type LinkEnd } from "./network.js";
export {
  Estate,
  socketDatabaseUrl,
  SERVER_RUNNING,
  type EstateOptions,
  type PlacedSystem,
} from "./estate.js";
export { netnsSupportFor, probeNetns, type NetnsSupport } from "./support.js";
export { IpCommandError } from "./ip.js";
