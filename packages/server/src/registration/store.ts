import type { SpacewalkStore } from "../db/types.js";

/** The store calls registration makes (the database layer documents each). */
export type RegistrationStore = Pick<
  SpacewalkStore,
  | "findSystem"
  | "recordCheckin"
  | "registerPushClient"
  | "registerPushClientJid"
  | "pushDispatchers"
>;
