import { REBOOT_ACTION_LABEL } from "../db/tables.js";
import type { ActionHold, DoctorAction } from "./doctor-types.js";
import type { DoctorSources } from "./ports.js";

/** Throttle figures: how many systems hold slots now. */
export interface ThrottleView {
  readonly running: ReadonlySet<number>;
  readonly asked: number;
  readonly notifyThreshold: number;
  /** Actions the system's last checkin announced: if one is still due, it was asked and holds a slot. */
  readonly announced: ReadonlySet<number>;
}

/**
 * The system's queued and picked-up actions, each marked due or not by the dispatcher's own
 * query (never a second rule), and for those not due the condition of that query that
 * excludes it, in its order: earliest_action in the future, a prerequisite not completed for
 * this system, a reboot.reboot picked up, status 1 without renotify_picked_up. Due work can
 * still wait for a throttle slot (osa-dispatcher's notify_threshold, as the notification book
 * applies it).
 */
export async function describeActions(
  sources: DoctorSources,
  serverId: number,
  clientName: string | null,
  throttle: () => Promise<ThrottleView>,
): Promise<DoctorAction[]> {
  const { database, settings, now } = sources;
  const pending = await database.pendingActions(serverId);
  if (pending.length === 0) return [];
  const due =
    clientName === null
      ? new Set<number>()
      : new Set(
          (await database.dueActions(clientName, now, settings.renotifyPickedUp))
            .filter((action) => action.serverId === serverId)
            .map((action) => action.actionId),
        );
  const reboot = pending.find((a) => a.status === 1 && a.actionType === REBOOT_ACTION_LABEL);
  let view: ThrottleView | undefined;
  const actions: DoctorAction[] = [];
  for (const action of pending) {
    let heldBy: ActionHold | null;
    if (due.has(action.actionId)) {
      view ??= await throttle();
      const occupied = view.running.size + view.asked;
      const announced = view.announced;
      const free =
        view.notifyThreshold === 0 ||
        [...due].some((id) => announced.has(id)) ||
        view.running.has(serverId) ||
        occupied < view.notifyThreshold;
      heldBy = free
        ? null
        : {
            kind: "throttle",
            running: view.running.size,
            asked: view.asked,
            notifyThreshold: view.notifyThreshold,
          };
    } else if (action.earliestAction === null) {
      heldBy = { kind: "unreadable-earliest-action", value: action.earliestActionText };
    } else if (action.earliestAction.getTime() > now.getTime()) {
      heldBy = { kind: "earliest-action", earliestAction: action.earliestAction.toISOString() };
    } else if (
      // The due query's rule: held only while this system's row of the prerequisite is not completed.
      action.prerequisite !== null &&
      action.prerequisite.status !== null &&
      action.prerequisite.status !== 2
    ) {
      heldBy = {
        kind: "prerequisite",
        actionId: action.prerequisite.actionId,
        status: action.prerequisite.status,
      };
    } else if (reboot !== undefined) {
      heldBy = { kind: "reboot-in-progress", actionId: reboot.actionId };
    } else if (action.status === 1 && !settings.renotifyPickedUp) {
      heldBy = { kind: "picked-up", pickupTime: action.pickupTime?.toISOString() ?? null };
    } else {
      heldBy = { kind: "not-due" };
    }
    actions.push({
      actionId: action.actionId,
      actionType: action.actionType,
      name: action.name,
      status: action.status,
      earliestAction: action.earliestAction?.toISOString() ?? null,
      due: due.has(action.actionId),
      heldBy,
    });
  }
  return actions;
}
