// The xmlrpc package's serializer and deserializer modules, which @types/xmlrpc does not
// describe. Imported statically (not through createRequire) so bundlers include them: the
// client's RPM ships one bundled file.
declare module "xmlrpc/lib/serializer.js" {
  const serializer: { serializeMethodCall(method: string, params: unknown[]): string };
  export default serializer;
}
declare module "xmlrpc/lib/deserializer.js" {
  import type { Readable } from "node:stream";
  export default class Deserializer {
    deserializeMethodResponse(
      stream: Readable,
      callback: (error: Error | null | undefined, value?: unknown) => void,
    ): void;
  }
}
