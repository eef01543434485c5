import { PROXY_PATHS } from "./proxy-files.js";

/** The %doc README of a proxy keys RPM: what it holds and how to start the proxy. */
export function renderProxyReadme(context: {
  readonly name: string;
  readonly upstream: readonly string[];
  readonly upstreamIs: string;
}): string {
  const p = PROXY_PATHS;
  return `# osad2 proxy ${context.name}

Written by \`osad2-packager createproxy\`. This package holds:

- ${p.secretKey} (0600): this proxy's CURVE key pair; its public half is
  ${p.publicKey} and, on the osad2 server, certs/proxies/${context.name}.key.
- ${p.upstreamKey}: the public key of its upstream, ${context.upstreamIs}.
- ${p.config}: upstream = ${context.upstream.join(", ")}; systems connect to port 5556,
  child proxies to 5558.
- ${p.unit}, and the firewalld services osad2-proxy (5556) and osad2-proxy-proxies (5558).

Install the proxy (\`npm install -g @osad2/proxy\`), then:

    firewall-cmd --permanent --add-service=osad2-proxy && firewall-cmd --reload
    systemctl enable --now osad2-proxy

Systems behind this proxy get their RPMs from \`osad2-packager createclient --name NAME --proxy ${context.name}\`
on the server. Revoke the proxy there with \`osad2-packager keys revoke ${context.name} --proxy\`.
`;
}
