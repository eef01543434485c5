// The public surface of @osad2/proxy: createProxy and what it is configured with.
export { createProxy, upstreamEndpoints } from "./proxy.js";
export type { Proxy, ProxyOptions, ProxyEndpoints, ProxyStatus } from "./proxy.js";
export {
  PROXY_CONFIG,
  CONFIG_SECTION,
  DEFAULT_CONFIG_PATH,
  DEFAULT_LISTENER_PORT,
  loadProxyConfig,
  proxyKeyPaths,
} from "./config.js";
export type { ProxyConfig, LoadProxyConfigOptions, ProxyKeyPaths } from "./config.js";
export { loadProxyKeys } from "./keys.js";
export type { ProxyKeys } from "./keys.js";
export { ProxyKeyError, ProxyBindError, ProxyStateError, CurveUnavailableError } from "./errors.js";
export type { AdmissionTimings } from "./admission.js";
export type { UpstreamState } from "./upstream.js";
export { CLIENT_ZAP_DOMAIN, PROXY_ZAP_DOMAIN } from "./zap.js";
