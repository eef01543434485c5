// Hosts for end-to-end tests across machines, built from network namespaces on this one:
// each host is a namespace of its own (loopback up), each LAN a bridge in one switch
// namespace, each link a veth pair from a host's ethN to a port of that bridge. Addresses are
// 10.231.L.H/24 and exist only inside namespaces this run created; there is no route between
// LANs, so a host behind a proxy reaches the server only through the proxy's process.
//
// Every namespace is named osad2n-<pid>-<tag>-…: parallel runs never clash, and a run that
// died (its pid gone) is cleaned up by the next one — its processes killed, its namespaces
// deleted (which deletes its veth pairs).
import { randomBytes } from "node:crypto";
import { ip, ipSync, namespaceNames, namespacePids } from "./ip.js";

const NAME_PREFIX = "osad2n";
const RUN_NAME = /^osad2n-(\d+)-[0-9a-f]{4}-/;
/** 10.231.0.0/16: private, and only ever configured inside this harness's namespaces. */
const SUBNET_BASE = "10.231";

/** A machine of the test: a network namespace, with one address per LAN it is on. */
export interface Host {
  readonly name: string;
  readonly namespace: string;
  /** The host's address on `lan` (throws when it is not on it). */
  addressOn(lan: string): string;
  /** argv that runs `argv` on this host (`ip netns exec NAMESPACE …`). */
  command(argv: readonly string[]): string[];
}

/** One LAN: a bridge in the switch namespace, subnet 10.231.index.0/24. */
export interface Lan {
  readonly name: string;
  readonly index: number;
  readonly bridge: string;
}

/** A host's cable to a LAN, named "<host>.<lan>" (e.g. "proxy1.core"). */
export interface Link {
  readonly name: string;
  readonly host: string;
  readonly lan: string;
  readonly address: string;
  /** The host side: ethN in the host's namespace. */
  readonly hostInterface: string;
  /** The switch side: a bridge port in the switch namespace. */
  readonly switchInterface: string;
}

/** Which end of a link `ip link set … down` acts on. */
export type LinkEnd = "host" | "switch";

class NetnsHost implements Host {
  readonly addresses = new Map<string, string>();
  links = 0;
  constructor(
    readonly name: string,
    readonly namespace: string,
  ) {}

  addressOn(lan: string): string {
    const address = this.addresses.get(lan);
    if (address === undefined) throw new Error(`host ${this.name} is not on LAN ${lan}`);
    return address;
  }

  command(argv: readonly string[]): string[] {
    return ["ip", "netns", "exec", this.namespace, ...argv];
  }
}

export class TestNetwork {
  private readonly hosts = new Map<string, NetnsHost>();
  private readonly lans = new Map<string, Lan & { members: number }>();
  private readonly links = new Map<string, Link>();
  private readonly namespaces: string[] = [];
  private readonly onExit = (): void => this.disposeSync();
  private disposed = false;

  private constructor(
    readonly prefix: string,
    readonly switchNamespace: string,
  ) {}

  /** A new, empty network (the switch namespace only), after removing dead runs' leftovers. */
  static async create(): Promise<TestNetwork> {
    removeLeftovers();
    const prefix = `${NAME_PREFIX}-${process.pid}-${randomBytes(2).toString("hex")}`;
    const network = new TestNetwork(prefix, `${prefix}-switch`);
    // Registered first, so even a failure half-way through creating removes what exists.
    process.on("exit", network.onExit);
    await network.addNamespace(network.switchNamespace);
    return network;
  }

  /** A LAN: bridge br<index> in the switch namespace. */
  async addLan(name: string): Promise<Lan> {
    if (this.lans.has(name)) throw new Error(`LAN ${name} exists`);
    const index = this.lans.size;
    const lan = { name, index, bridge: `br${index}`, members: 0 };
    await ip(["-n", this.switchNamespace, "link", "add", lan.bridge, "type", "bridge"]);
    await ip(["-n", this.switchNamespace, "link", "set", lan.bridge, "up"]);
    this.lans.set(name, lan);
    return lan;
  }

  /** A host: a namespace of its own with loopback up, on no LAN yet. */
  async addHost(name: string): Promise<Host> {
    if (this.hosts.has(name)) throw new Error(`host ${name} exists`);
    const host = new NetnsHost(name, `${this.prefix}-${name}`);
    await this.addNamespace(host.namespace);
    await ip(["-n", host.namespace, "link", "set", "lo", "up"]);
    this.hosts.set(name, host);
    return host;
  }

  host(name: string): Host {
    const host = this.hosts.get(name);
    if (!host) throw new Error(`no host ${name}`);
    return host;
  }

  /** Cables `host` to `lan` (a veth pair, both ends up) with the next free address of the LAN. */
  async connect(hostName: string, lanName: string): Promise<Link> {
    const host = this.hosts.get(hostName);
    const lan = this.lans.get(lanName);
    if (!host) throw new Error(`no host ${hostName}`);
    if (!lan) throw new Error(`no LAN ${lanName}`);
    const name = `${hostName}.${lanName}`;
    if (this.links.has(name)) throw new Error(`link ${name} exists`);
    lan.members += 1;
    const address = `${SUBNET_BASE}.${lan.index}.${lan.members}`;
    const hostInterface = `eth${host.links++}`;
    // Interface names are at most 15 characters; the port's name only has to be unique in the
    // switch namespace.
    const switchInterface = `p${this.links.size}`;
    await ip([
      "-n",
      host.namespace,
      "link",
      "add",
      hostInterface,
      "type",
      "veth",
      "peer",
      "name",
      switchInterface,
      "netns",
      this.switchNamespace,
    ]);
    await ip(["-n", this.switchNamespace, "link", "set", switchInterface, "master", lan.bridge]);
    await ip(["-n", this.switchNamespace, "link", "set", switchInterface, "up"]);
    await ip(["-n", host.namespace, "addr", "add", `${address}/24`, "dev", hostInterface]);
    await ip(["-n", host.namespace, "link", "set", hostInterface, "up"]);
    host.addresses.set(lanName, address);
    const link = { name, host: hostName, lan: lanName, address, hostInterface, switchInterface };
    this.links.set(name, link);
    return link;
  }

  link(name: string): Link {
    const link = this.links.get(name);
    if (!link) throw new Error(`no link ${name} (links: ${[...this.links.keys()].join(", ")})`);
    return link;
  }

  /**
   * `ip link set … down|up` of one end of a named link. The host end: the host's kernel knows
   * at once (its route goes, sends fail). The switch end: the host's interface loses carrier.
   */
  async setLink(name: string, state: "up" | "down", end: LinkEnd = "host"): Promise<void> {
    const link = this.link(name);
    const [namespace, device] =
      end === "host"
        ? [this.host(link.host).namespace, link.hostInterface]
        : [this.switchNamespace, link.switchInterface];
    await ip(["-n", namespace, "link", "set", device, state]);
  }

  /** Kills every process left in the run's namespaces, then deletes them (and their links). */
  async dispose(): Promise<void> {
    this.disposeSync();
  }

  private disposeSync(): void {
    if (this.disposed) return;
    this.disposed = true;
    process.off("exit", this.onExit);
    for (const namespace of this.namespaces.reverse()) deleteNamespace(namespace);
  }

  private async addNamespace(namespace: string): Promise<void> {
    await ip(["netns", "add", namespace]);
    this.namespaces.push(namespace);
  }
}

function deleteNamespace(namespace: string): void {
  for (const pid of namespacePids(namespace)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // exited meanwhile
    }
  }
  try {
    ipSync(["netns", "del", namespace]);
  } catch {
    // already gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Namespaces of runs whose process is gone (aborted, killed): their processes and the namespaces. */
function removeLeftovers(): void {
  for (const namespace of namespaceNames()) {
    const match = RUN_NAME.exec(namespace);
    if (match && !alive(Number(match[1]))) deleteNamespace(namespace);
  }
}
