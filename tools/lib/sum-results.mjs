// Sums every suite's vitest JSON report into the closing line CI reads: "N passed, N failed".
// A suite whose report is missing (it did not run, or crashed before writing it) or that ran no
// test counts as one failure: nothing is skipped silently. A part a suite could not run on this
// machine (its dist-test/not-run/NAME.txt, e.g. the across-hosts tests without network
// namespaces) is named with the reason just above the closing line; its tests were skipped,
// so they count neither as passed nor as failed.
//   node tools/lib/sum-results.mjs          sum (exit 1 on any failure or when nothing passed)
//   node tools/lib/sum-results.mjs --clear  delete the reports first, so no old one is counted
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { testReports } from "./test-reports.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const suites = testReports(root);

if (process.argv.includes("--clear")) {
  for (const { report, notRun } of suites) {
    fs.rmSync(report, { force: true });
    fs.rmSync(notRun, { recursive: true, force: true });
  }
  process.exit(0);
}

let passed = 0;
let failed = 0;
for (const { name, report, notRun, part } of suites) {
  if (!fs.existsSync(report)) {
    console.log(`${name}: no report at ${path.relative(root, report)} (counted as 1 failure)`);
    failed += 1;
    continue;
  }
  const result = JSON.parse(fs.readFileSync(report, "utf8"));
  // A file that failed without a failed test (it did not load, or a beforeAll threw and its
  // tests were skipped) counts as one failure.
  const unloaded = (result.testResults ?? []).filter(
    (r) => r.status === "failed" && !(r.assertionResults ?? []).some((a) => a.status === "failed"),
  ).length;
  const p = result.numPassedTests ?? 0;
  let f = (result.numFailedTests ?? 0) + (result.numRuntimeErrors ?? 0) + unloaded;
  // A suite that ran no test at all (filtered, or every file skipped) did not prove anything,
  // unless it is a part that said why (its files NOT RUN, named below).
  const none = p + f === 0 && !(part && saidWhy(notRun, part));
  if (none) f = 1;
  console.log(`${name}: ${p} passed, ${f} failed${none ? " (ran no tests)" : ""}`);
  passed += p;
  failed += f;
}
const named = new Set();
for (const { name, notRun } of suites) {
  // Parts of one package share its not-run directory: name each reason once.
  if (named.has(notRun)) continue;
  named.add(notRun);
  for (const file of notRunFiles(notRun)) {
    const reason = fs.readFileSync(path.join(notRun, file), "utf8").trim();
    console.log(`${path.basename(file, ".txt")}: NOT RUN (${name}) — ${reason}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);

function notRunFiles(dir) {
  return fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.endsWith(".txt"))
        .sort()
    : [];
}

/** The part's test files left a reason: not-run/PART.txt or not-run/PART-*.txt. */
function saidWhy(dir, part) {
  return notRunFiles(dir).some((f) => f === `${part}.txt` || f.startsWith(`${part}-`));
}
process.exit(failed > 0 || passed === 0 ? 1 : 0);
