// @osad2/server/testing: seeding for standalone trials and tests. It writes the rows Spacewalk
// itself writes when a system registers and an administrator schedules an action; a real
// Spacewalk never needs it, so the main entry does not carry it.
export { createSystem, scheduleAction, setServerActionStatus } from "./seed.js";
export { SeedError } from "./errors.js";

export type {
  CreateSystemOptions,
  ScheduleActionOptions,
  SetServerActionStatusOptions,
} from "./seed.js";
