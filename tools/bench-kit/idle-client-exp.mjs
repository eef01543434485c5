// Experiment: one real osad2-client idle on the embedded database; prints its RSS and thread count over time.
import { Deployment } from "@osad2/testkit";
import fs from "node:fs";
const d = await Deployment.launch({ database: "sqlite", pingInterval: 10 }, ["idle"]);
const c = d.clients?.get?.("idle") ?? [...(d.processes ?? [])].find(() => false);
const pid = Number(process.argv[2] ?? 0) || undefined;
const find = () => { for (const p of fs.readdirSync("/proc")) { if (!/^\d+$/.test(p)) continue; try { const cmd = fs.readFileSync(`/proc/${p}/cmdline`, "utf8"); if (cmd.includes("client/dist/cli.js") && cmd.includes("run")) return Number(p); } catch {} } };
const cpid = find();
for (let i = 0; i < 8; i++) {
  const st = fs.readFileSync(`/proc/${cpid}/status`, "utf8");
  const g = (k) => st.match(new RegExp(`${k}:\\s+(\\d+)`))?.[1];
  console.log(`t=${i * 10}s rss ${(g("VmRSS") / 1024).toFixed(1)} anon ${(g("RssAnon") / 1024).toFixed(1)} file ${(g("RssFile") / 1024).toFixed(1)} threads ${g("Threads")}`);
  await new Promise((r) => setTimeout(r, 10_000));
}
await d.dispose();
