import type { ActionHold, DoctorAction, DoctorReport } from "./doctor-types.js";

function hold(held: ActionHold | null, due: boolean): string {
  if (held === null) return due ? "due, nothing holds it" : "due";
  switch (held.kind) {
    case "earliest-action":
      return `not before ${held.earliestAction} (earliest_action)`;
    case "unreadable-earliest-action":
      return `never due: earliest_action holds ${JSON.stringify(held.value)}, which SQLite cannot read as a time; write it as '2026-12-02T23:00:00Z'`;
    case "prerequisite":
      return `waits for prerequisite action ${held.actionId} (status ${held.status ?? "?"}, needs 2 completed)`;
    case "reboot-in-progress":
      return `a reboot is in progress (action ${held.actionId} picked up)`;
    case "throttle":
      return `due, held by the throttle: notify_threshold ${held.notifyThreshold} is taken by ${held.running} system(s) with actions picked up and ${held.asked} asked and not done yet`;
    case "picked-up":
      return `picked up by rhn_check${held.pickupTime === null ? "" : ` at ${held.pickupTime}`}; waits for it to complete`;
    case "not-due":
      return "not due (no push client to announce it to)";
  }
}

function action(a: DoctorAction): string {
  const label = a.name === null ? a.actionType : `${a.actionType} "${a.name}"`;
  return `  action ${a.actionId} ${label} (status ${a.status}): ${hold(a.heldBy, a.due)}`;
}

/** The text `osad2-server doctor SYSTEM` prints. */
export function formatDoctorReport(report: DoctorReport): string {
  const out: string[] = [];
  if (report.verdict === "unknown-system") {
    return `${report.reference}: unknown system — ${report.message ?? ""}\n`;
  }
  const system = report.system;
  out.push(
    `${report.reference}: ${report.verdict === "pushable" ? "PUSHABLE" : "NOT PUSHABLE"}${system === null ? "" : ` (system ${system.serverId} "${system.profileName}")`}`,
  );
  for (const link of report.links) {
    const mark =
      link.status === "ok" ? "ok     " : link.status === "broken" ? "BROKEN " : "?      ";
    out.push(`  ${mark} ${link.link.padEnd(12)} ${link.summary}`);
    if (link.fix !== undefined) out.push(`          fix: ${link.fix}`);
  }
  out.push(report.actions.length === 0 ? "actions: none queued or picked up" : "actions:");
  for (const a of report.actions) out.push(action(a));
  const n = report.lastNotification;
  if (n === null) {
    out.push(
      report.serverRunning
        ? "last checkin: none since the server started"
        : "last checkin: unknown (server not running)",
    );
  } else {
    const picked = n.pickups.filter((p) => p.pickedUp).length;
    out.push(
      `last checkin: ${n.at} to ${n.clientName} for action(s) ${n.actionIds.join(", ") || "-"}; rhn_check picked up ${picked} of ${n.pickups.length}`,
    );
  }
  if (report.failures.length > 0) {
    out.push("recent refusals:");
    for (const f of report.failures) {
      out.push(
        `  ${f.at} ${f.reason}${f.address === null ? "" : ` from ${f.address}`}${f.keyName === null ? "" : ` key ${f.keyName}`}${f.clientName === null ? "" : ` as ${f.clientName}`}`,
      );
    }
  }
  return `${out.join("\n")}\n`;
}
