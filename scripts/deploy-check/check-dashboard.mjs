// Offline check of the Grafana dashboard (scripts/check-deploy.sh runs it).
//
//   node check-dashboard.mjs DASHBOARD_JSON METRICS_TXT
//
// METRICS_TXT (docs/metrics.txt) is the one list of the metrics the module
// exports: one a line, NAME TYPE (counter, gauge or histogram), nothing else.
// The dashboard (k8s/grafana-dashboard.json) must be
//
// 1. valid JSON of a Grafana dashboard: title, uid, schemaVersion; the template
//    variables datasource (Prometheus), namespace and pod; every query on
//    ${datasource}, no data source of an installation written in; panels with
//    unique ids on the 24 columns of the grid, not overlapping, each with
//    queries (rows aside);
// 2. naming only metrics of the list, in every PromQL expression of its panels
//    and variables: a histogram through its _bucket, _sum or _count series
//    only, _bucket under histogram_quantile() with le kept in every `by`; a
//    counter or a histogram series only as the range of rate(), irate() or
//    increase(), a gauge never; every selector of a panel filtered by
//    namespace=~"$namespace" and pod=~"$pod";
// 3. showing every metric of the list in some panel.
//
// Exit status 1 and one line per problem when anything is wrong.

import { readFileSync } from "node:fs";
import { basename } from "node:path";

const [dashFile, metricsFile] = process.argv.slice(2);
if (!dashFile || !metricsFile) {
  console.error("usage: check-dashboard.mjs DASHBOARD_JSON METRICS_TXT");
  process.exit(2);
}

const errors = [];
const err = (where, msg) => errors.push(`${where}: ${msg}`);
const ok = (msg) => console.log(`  ok   ${msg}`);
const D = basename(dashFile);

function finish() {
  if (errors.length) {
    for (const e of errors) console.log(`  FAIL ${e}`);
    process.exit(1);
  }
}

/* ---------------------------------------------------------------------- */
/* docs/metrics.txt                                                        */
/* ---------------------------------------------------------------------- */

const types = new Map(); // name -> counter | gauge | histogram
{
  const where = metricsFile;
  const text = readFileSync(metricsFile, "utf8");
  if (!text.endsWith("\n")) err(where, "the last line must end with a newline");
  text.split("\n").slice(0, -1).forEach((line, i) => {
    const m = line.match(/^(mcp_[a-z][a-z0-9_]*) (counter|gauge|histogram)$/);
    if (!m) {
      err(`${where}:${i + 1}`, `${JSON.stringify(line)} is not "mcp_name TYPE" (TYPE counter, gauge or histogram)`);
      return;
    }
    const [, name, type] = m;
    if (types.has(name)) err(`${where}:${i + 1}`, `${name} listed twice`);
    if (type === "counter" && !name.endsWith("_total"))
      err(`${where}:${i + 1}`, `${name}: a counter's name ends with _total`);
    if (type !== "counter" && name.endsWith("_total"))
      err(`${where}:${i + 1}`, `${name}: only a counter's name ends with _total`);
    if (type === "histogram" && /_(bucket|sum|count)$/.test(name))
      err(`${where}:${i + 1}`, `${name}: a histogram's name cannot end with _bucket, _sum or _count`);
    types.set(name, type);
  });
  for (const [name, type] of types)
    if (type === "histogram")
      for (const s of ["bucket", "sum", "count"])
        if (types.has(`${name}_${s}`)) err(where, `${name}_${s} collides with the series of the histogram ${name}`);
  if (types.size === 0) err(where, "no metrics");
  finish();
  const count = (t) => [...types.values()].filter((x) => x === t).length;
  ok(`${where}: ${types.size} metrics (${count("counter")} counters, ${count("gauge")} gauges, ${count("histogram")} histograms)`);
}

/* ---------------------------------------------------------------------- */
/* PromQL, as far as the names go                                          */
/* ---------------------------------------------------------------------- */

// Tokens: str, matchers (the text between { and }), range (between [ and ]),
// var ($x, ${x}), num (numbers, durations), ident, p (punctuation).
function lex(expr) {
  const toks = [];
  const n = expr.length;
  const skipString = (i) => {
    const q = expr[i];
    let j = i + 1;
    while (j < n && expr[j] !== q) j += expr[j] === "\\" && q !== "`" ? 2 : 1;
    if (j >= n) throw new Error(`unterminated string at offset ${i}`);
    return j + 1;
  };
  let i = 0;
  while (i < n) {
    const c = expr[i];
    let m;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"' || c === "'" || c === "`") {
      const j = skipString(i);
      toks.push({ t: "str", v: expr.slice(i, j) });
      i = j;
    } else if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      let j = i + 1;
      while (j < n && expr[j] !== close) j = expr[j] === '"' || expr[j] === "'" ? skipString(j) : j + 1;
      if (j >= n) throw new Error(`no ${close} for the ${c} at offset ${i}`);
      toks.push({ t: c === "{" ? "matchers" : "range", v: expr.slice(i + 1, j) });
      i = j + 1;
    } else if ((m = expr.slice(i).match(/^\$(\{\w+(?::\w+)?\}|\w+)/))) {
      toks.push({ t: "var", v: m[0] });
      i += m[0].length;
    } else if ((m = expr.slice(i).match(/^[A-Za-z_:][A-Za-z0-9_:]*/))) {
      toks.push({ t: "ident", v: m[0] });
      i += m[0].length;
    } else if ((m = expr.slice(i).match(/^(0x[0-9a-fA-F]+|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?[A-Za-z0-9]*)/))) {
      toks.push({ t: "num", v: m[0] });
      i += m[0].length;
    } else if ((m = expr.slice(i).match(/^(==|!=|>=|<=|=~|!~|[-+*/%^<>=(),@])/))) {
      toks.push({ t: "p", v: m[0] });
      i += m[0].length;
    } else {
      throw new Error(`unexpected ${JSON.stringify(c)} at offset ${i}`);
    }
  }
  let depth = 0;
  for (const t of toks) {
    if (t.v === "(" && t.t === "p") depth++;
    if (t.v === ")" && t.t === "p" && --depth < 0) throw new Error("a ) without its (");
  }
  if (depth !== 0) throw new Error("a ( without its )");
  return toks;
}

const modifiers = new Set(["by", "without", "on", "ignoring", "group_left", "group_right"]);
const keywords = new Set(["bool", "and", "or", "unless", "offset", "atan2", "inf", "nan"]);
const aggregators = new Set(["sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
  "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio"]);
const overRange = new Set(["rate", "irate", "increase"]);

// The metric names of EXPR, each with its matchers, the function whose argument
// it is and whether a range follows; the label lists of by (...) and without (...);
// selectors without a metric name ({__name__=~"..."}, {job="..."}).
function analyse(expr) {
  const toks = lex(expr);
  const metrics = [];
  const groupings = [];
  const functions = new Set();
  const bare = [];
  for (let i = 0; i < toks.length; i++) {
    const tok = toks[i];
    if (tok.t === "matchers" && toks[i - 1]?.t !== "ident") bare.push(`{${tok.v}}`);
    if (tok.t !== "ident") continue;
    const lower = tok.v.toLowerCase();
    const next = toks[i + 1];
    if (modifiers.has(lower)) {
      if (next?.v === "(") {
        const labels = [];
        for (i += 2; i < toks.length && toks[i].v !== ")"; i++)
          if (toks[i].t === "ident") labels.push(toks[i].v);
        if (lower === "by" || lower === "without") groupings.push({ kind: lower, labels });
      }
      continue;
    }
    if (keywords.has(lower)) continue;
    if (next?.t === "p" && next.v === "(") {
      functions.add(tok.v);
      continue;
    }
    if (aggregators.has(tok.v) && next?.t === "ident" && modifiers.has(next.v)) continue;
    let j = i + 1;
    const matchers = toks[j]?.t === "matchers" ? toks[j++].v : null;
    const range = toks[j]?.t === "range";
    const fn = toks[i - 1]?.v === "(" && toks[i - 2]?.t === "ident" ? toks[i - 2].v : null;
    metrics.push({ name: tok.v, matchers, range, fn });
  }
  return { metrics, groupings, functions, bare };
}

// NAME as a series of the list: { base, type, series } or { error }
function seriesOf(name) {
  const t = types.get(name);
  if (t === "histogram")
    return { error: `${name} is a histogram: only its series ${name}_bucket, _sum and _count exist` };
  if (t) return { base: name, type: t, series: "" };
  const m = name.match(/^(.*)_(bucket|sum|count)$/);
  if (m && types.get(m[1]) === "histogram") return { base: m[1], type: "histogram", series: m[2] };
  return { error: `${name} is not a metric of ${metricsFile}` };
}

// Checks EXPR; returns the metrics of the list it shows.  panel: a panel's
// query (selectors filtered by the variables, rate() rules); else a variable's.
function checkExpr(expr, where, panel) {
  const shown = new Set();
  let a;
  try {
    a = analyse(expr);
  } catch (e) {
    err(where, `${e.message}: ${expr}`);
    return shown;
  }
  if (a.metrics.length === 0) err(where, `names no metric: ${expr}`);
  for (const b of a.bare) err(where, `${b}: a selector without a metric name (name the metric)`);
  for (const m of a.metrics) {
    if (/\b__name__\b/.test(m.matchers || "")) err(where, `${m.name}: select metrics by their names, not __name__`);
    const s = seriesOf(m.name);
    if (s.error) {
      err(where, s.error);
      continue;
    }
    shown.add(s.base);
    if (!panel) continue;
    const mt = m.matchers || "";
    if (!/(^|[\s,])namespace\s*=~?\s*"\$namespace"/.test(mt) || !/(^|[\s,])pod\s*=~?\s*"\$pod"/.test(mt))
      err(where, `${m.name}: the selector must filter by namespace=~"$namespace" and pod=~"$pod"`);
    if (s.type === "counter" || s.type === "histogram") {
      if (!overRange.has(m.fn) || !m.range)
        err(where, `${m.name} is a ${s.type === "counter" ? "counter" : "histogram's series"}: ` +
          "use it as rate(...[range]) (or irate, increase)");
    } else if (overRange.has(m.fn)) {
      err(where, `${m.name} is a gauge: no ${m.fn}()`);
    }
    if (s.series === "bucket") {
      if (!a.functions.has("histogram_quantile"))
        err(where, `${m.name}: buckets only under histogram_quantile()`);
      for (const g of a.groupings)
        if ((g.kind === "by") !== g.labels.includes("le"))
          err(where, `${m.name}: ${g.kind} (${g.labels.join(", ")}) must ${g.kind === "by" ? "keep" : "not drop"} le for histogram_quantile()`);
    }
  }
  return shown;
}

/* ---------------------------------------------------------------------- */
/* The dashboard                                                           */
/* ---------------------------------------------------------------------- */

let dash;
try {
  dash = JSON.parse(readFileSync(dashFile, "utf8"));
} catch (e) {
  err(D, `not valid JSON: ${e.message}`);
  finish();
}

const dsRef = "${datasource}";
if (typeof dash.title !== "string" || !dash.title) err(D, "title is missing");
if (typeof dash.uid !== "string" || !/^[A-Za-z0-9_-]{1,40}$/.test(dash.uid))
  err(D, "uid must be 1 to 40 letters, digits, - or _ (links and provisioning use it)");
if (!Number.isInteger(dash.schemaVersion) || dash.schemaVersion < 36)
  err(D, "schemaVersion must be 36 or later (data sources referenced by uid)");
if (dash.id !== null && dash.id !== undefined) err(D, "id must be null: Grafana assigns it on import");

// every Prometheus data source referenced through the variable
(function walk(v, path) {
  if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${path}[${i}]`));
  if (!v || typeof v !== "object") return;
  if (path.endsWith(".datasource") && v.type === "prometheus" && v.uid !== dsRef)
    err(D, `${path}: uid ${JSON.stringify(v.uid)}: use "${dsRef}", not a data source of one installation`);
  for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
})(dash, "");

// variables
const vars = new Map((dash.templating?.list || []).map((v) => [v.name, v]));
const dsVar = vars.get("datasource");
if (dsVar?.type !== "datasource" || dsVar?.query !== "prometheus")
  err(D, "templating: no variable datasource of type datasource, query prometheus");
for (const [name, label] of [["namespace", "namespace"], ["pod", "pod"]]) {
  const v = vars.get(name);
  if (!v || v.type !== "query") {
    err(D, `templating: no query variable ${name}`);
    continue;
  }
  const where = `${D} variable ${name}`;
  if (v.datasource?.uid !== dsRef) err(where, `datasource must be "${dsRef}"`);
  for (const q of new Set([typeof v.query === "string" ? v.query : v.query?.query, v.definition])) {
    const m = (q || "").match(/^\s*label_values\((.*),\s*([A-Za-z_]\w*)\s*\)\s*$/s);
    if (!m) {
      err(where, `query must be label_values(METRIC, ${label}): ${q}`);
      continue;
    }
    if (m[2] !== label) err(where, `lists the label ${m[2]}, not ${label}`);
    checkExpr(m[1], where, false);
    if (name === "pod" && !/\$namespace\b/.test(m[1])) err(where, "pods of the selected namespace only: filter by $namespace");
  }
}

// panels, with those of collapsed rows
const all = [];
for (const p of dash.panels || []) {
  all.push(p);
  if (p.type === "row") all.push(...(p.panels || []));
}
if (all.length === 0) err(D, "no panels");
const ids = new Set();
const shown = new Set();
const boxes = [];
let queries = 0;
for (const p of all) {
  const where = `${D} panel ${p.id} "${p.title ?? "?"}"`;
  if (!Number.isInteger(p.id) || ids.has(p.id)) err(where, "id must be an integer unique in the dashboard");
  ids.add(p.id);
  const g = p.gridPos || {};
  if (![g.h, g.w, g.x, g.y].every(Number.isInteger) || g.x < 0 || g.y < 0 || g.w < 1 || g.h < 1 || g.x + g.w > 24) {
    err(where, `gridPos ${JSON.stringify(p.gridPos)}: h, w, x, y integers within the 24 columns`);
  } else {
    for (const b of boxes)
      if (g.x < b.x + b.w && b.x < g.x + g.w && g.y < b.y + b.h && b.y < g.y + g.h)
        err(where, `overlaps panel ${b.id}`);
    boxes.push({ ...g, id: p.id });
  }
  if (p.type === "row" || p.type === "text") continue;
  if (!p.title) err(where, "no title");
  if (p.datasource?.uid !== dsRef) err(where, `datasource must be { "type": "prometheus", "uid": "${dsRef}" }`);
  const targets = p.targets || [];
  if (targets.length === 0) err(where, "no queries");
  const refIds = new Set();
  for (const t of targets) {
    const tw = `${where} query ${t.refId ?? "?"}`;
    if (!t.refId || refIds.has(t.refId)) err(tw, "refId missing or not unique in the panel");
    refIds.add(t.refId);
    if (t.datasource && t.datasource.uid !== dsRef) err(tw, `datasource must be "${dsRef}"`);
    if (typeof t.expr !== "string" || !t.expr.trim()) {
      err(tw, "no PromQL expression (expr)");
      continue;
    }
    queries++;
    for (const m of checkExpr(t.expr, tw, true)) shown.add(m);
  }
}
for (const name of types.keys())
  if (!shown.has(name)) err(D, `no panel shows ${name} (${types.get(name)}, ${metricsFile})`);

finish();
ok(`${D}: "${dash.title}", schemaVersion ${dash.schemaVersion}, variables datasource, namespace, pod; ` +
  `${all.filter((p) => p.type !== "row").length} panels, ${queries} queries`);
ok(`${D}: every expression names only metrics of ${metricsFile}, filtered by namespace and pod; ` +
  `histograms through histogram_quantile/_sum/_count, counters through rate(); all ${types.size} shown`);
