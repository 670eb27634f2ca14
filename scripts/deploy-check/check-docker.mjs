// Static checks of docker/ (scripts/check-deploy.sh runs it; no Docker engine
// is needed or used).
//
//   node check-docker.mjs REPO_ROOT NEEDED_PACKAGES
//
// NEEDED_PACKAGES: the Debian packages that provide the built module's shared
// libraries (the shell works them out with readelf and dpkg -S).
//
// docker/Dockerfile: multi-stage; every FROM pinned to an exact tag (a Debian
// point release such as 12.11, never latest or a bare major) or a digest; the
// builder runs scripts/install-deps.sh and make build exactly as CI does; the
// runtime stage is Debian 12 slim with nginx at the builder's version and the
// module's libraries, the module in nginx's modules directory, the template from
// conf/, USER 1001 (non-root), EXPOSE 8000, STOPSIGNAL SIGQUIT, a HEALTHCHECK on
// /health/live, the entrypoint; every COPY source exists and is not excluded by
// the .dockerignore.
// docker/docker-compose.yml: the server, postgres:16 and redis:7 pinned, health
// checks, depends_on with service_healthy, named volumes, the URLs passed in;
// the server can be scaled (`--scale mcp=N`: no container_name, host ports as a
// range), its replicas sharing sessions through REDIS_URL.

import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

const [root, neededArg = ""] = process.argv.slice(2);
const needed = neededArg.split(/\s+/).filter(Boolean);
const errors = [];
const err = (w, m) => errors.push(`${w}: ${m}`);
const ok = (m) => console.log(`  ok   ${m}`);

/* ---------------------------------------------------------------------- */
/* Dockerfile                                                              */
/* ---------------------------------------------------------------------- */

const dfPath = join(root, "docker/Dockerfile");
const df = "docker/Dockerfile";
const text = readFileSync(dfPath, "utf8");

// logical instructions: comments dropped, continuation lines joined
const instrs = [];
{
  let cur = null;
  let lineNo = 0;
  for (const raw of text.split("\n")) {
    lineNo++;
    if (cur === null && /^\s*(#|$)/.test(raw)) continue;
    if (cur !== null && /^\s*#/.test(raw)) continue;
    const cont = /\\\s*$/.test(raw);
    const piece = raw.replace(/\\\s*$/, "");
    if (cur === null) cur = { line: lineNo, text: piece };
    else cur.text += " " + piece.trim();
    if (!cont) {
      const m = cur.text.trim().match(/^(\w+)\s+([\s\S]*)$/);
      if (m) instrs.push({ line: cur.line, op: m[1].toUpperCase(), args: m[2].trim() });
      cur = null;
    }
  }
}

// ARGs before the first FROM: their defaults stand for ${NAME} in FROM lines
// (a base passed with --build-arg replaces only what the image is built from)
const globalArgs = {};
for (const i of instrs) {
  if (i.op === "FROM") break;
  const m = i.op === "ARG" && i.args.match(/^(\w+)=(\S+)$/);
  if (i.op === "ARG" && !m)
    err(`${df}:${i.line}`, `ARG ${i.args} before FROM needs a default (the official base)`);
  if (m) globalArgs[m[1]] = m[2];
}
const expand = (s) =>
  s.replace(/\$\{(\w+)\}|\$(\w+)/g, (all, a, b) => globalArgs[a || b] ?? all);

const stages = [];
for (const i of instrs) {
  if (i.op === "FROM") {
    const m = i.args.match(/^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i);
    stages.push({ image: m?.[1] && expand(m[1]), name: m?.[2], line: i.line, instrs: [] });
  } else if (stages.length) {
    stages[stages.length - 1].instrs.push(i);
  } else if (i.op !== "ARG") {
    err(`${df}:${i.line}`, `${i.op} before the first FROM`);
  }
}

function pinned(image) {
  // repo:tag@sha256:... or repo:tag with an exact version (a dot in the tag)
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const tag = image.split("/").pop().split(":")[1];
  if (!tag || tag === "latest") return false;
  return /^\d+\.\d+(\.\d+)?(-[a-z0-9.-]+)?$/.test(tag);
}

if (stages.length < 2) err(df, "must be multi-stage (builder and runtime)");
const stageNames = new Set(stages.map((s) => s.name).filter(Boolean));
for (const s of stages) {
  if (stageNames.has(s.image)) continue; // FROM an earlier stage
  if (!pinned(s.image))
    err(`${df}:${s.line}`, `base image ${s.image} is not pinned to an exact version tag or digest`);
  else if (!/^(docker\.io\/)?(library\/)?debian:12\./.test(s.image))
    err(`${df}:${s.line}`, `base image ${s.image} is not Debian 12`);
}
const builder = stages[0];
const runtime = stages[stages.length - 1];
const runs = (st) => st.instrs.filter((i) => i.op === "RUN").map((i) => i.args);
const last = (st, op) => st.instrs.filter((i) => i.op === op).pop();

if (builder && runtime && builder !== runtime) {
  const b = runs(builder).join(" && ");
  if (!/(^|&&|;)\s*scripts\/install-deps\.sh(\s|$|&&)/.test(b))
    err(df, "the builder stage must run scripts/install-deps.sh (what CI runs)");
  if (!/(^|&&|;)\s*make build(\s|$|&&)/.test(b))
    err(df, "the builder stage must run make build (what CI runs)");
  if (!/-slim(@|$)/.test(runtime.image.split(":").slice(1).join(":")))
    err(df, `the runtime stage must be Debian 12 slim, not ${runtime.image}`);

  const r = runs(runtime).join(" ");
  if (!/"?nginx=\$\(cat [^)]*nginx-version\)"?/.test(r))
    err(df, "the runtime must install nginx at the version the module was built against");
  for (const p of new Set(["libyajl2", "libpq5", "libhiredis0.14", "libssl3", "gettext-base", ...needed]))
    if (!new RegExp(`(^|\\s)${p.replace(/\./g, "\\.")}(\\s|$|;)`).test(r))
      err(df, `the runtime stage does not install ${p}`);

  const copies = runtime.instrs.filter((i) => i.op === "COPY");
  const fromB = copies.find((c) => /--from=\S+/.test(c.args) && /ngx_http_mcp_module\.so\s+\/usr\/lib\/nginx\/modules\//.test(c.args));
  if (!fromB) err(df, "the module must be copied from the builder into /usr/lib/nginx/modules/");
  if (!copies.some((c) => /^conf\/\S+\s+\/etc\/nginx\/templates\//.test(c.args)))
    err(df, "the configuration template must come from conf/ into /etc/nginx/templates/");

  const user = last(runtime, "USER");
  const uid = user?.args.split(":")[0];
  if (!user) err(df, "the runtime stage has no USER");
  else if (uid !== "1001") err(df, `USER ${user.args}: must be uid 1001 (non-root, numeric for runAsNonRoot)`);
  if (!runtime.instrs.some((i) => i.op === "EXPOSE" && /^8000(\/tcp)?$/.test(i.args)))
    err(df, "EXPOSE 8000 missing");
  if (last(runtime, "STOPSIGNAL")?.args !== "SIGQUIT")
    err(df, "STOPSIGNAL SIGQUIT missing (graceful shutdown)");
  const hc = last(runtime, "HEALTHCHECK");
  if (!hc || /^NONE/i.test(hc.args)) {
    err(df, "HEALTHCHECK missing");
  } else {
    const cmd = hc.args.replace(/^.*?CMD\s+/, "");
    let target = cmd;
    const script = copies.find((c) => c.args.split(/\s+/).pop() && cmd.includes(c.args.split(/\s+/).pop()));
    if (script) target += readFileSync(join(root, script.args.split(/\s+/)[0]), "utf8");
    if (!/\/health\/live/.test(target)) err(df, "HEALTHCHECK does not ask /health/live");
  }
  if (!last(runtime, "ENTRYPOINT") || !last(runtime, "CMD")) err(df, "ENTRYPOINT/CMD missing");
  const env = runtime.instrs.filter((i) => i.op === "ENV").map((i) => i.args).join(" ");
  const outDir = env.match(/NGINX_ENVSUBST_OUTPUT_DIR=(\S+)/)?.[1];
  if (!/^\/tmp\//.test(outDir || ""))
    err(df, "templates must be rendered into a writable /tmp directory (read-only root)");
  const cmd = last(runtime, "CMD")?.args || "";
  if (outDir && !cmd.includes(`"${outDir}/nginx.conf"`))
    err(df, `CMD must run nginx -c ${outDir}/nginx.conf (the rendered template)`);
  const tpl = copies.find((c) => /\/etc\/nginx\/templates\//.test(c.args));
  if (tpl && !/\/etc\/nginx\/templates\/nginx\.conf\.template$/.test(tpl.args))
    err(df, "the template must be installed as /etc/nginx/templates/nginx.conf.template");
}

// every COPY source exists and survives the .dockerignore
const ignoreA = join(root, "docker/.dockerignore");
const ignoreB = join(root, "docker/Dockerfile.dockerignore");
let ignores = [];
if (!existsSync(ignoreA) || !existsSync(ignoreB)) {
  err("docker/", ".dockerignore and Dockerfile.dockerignore (BuildKit, context = repository root) must both exist");
} else {
  const a = readFileSync(ignoreA, "utf8");
  if (a !== readFileSync(ignoreB, "utf8")) err("docker/", ".dockerignore and Dockerfile.dockerignore differ");
  ignores = a.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  for (const must of ["build", ".git"])
    if (!ignores.includes(must)) err("docker/.dockerignore", `should exclude ${must}`);
}
const globRe = (g) => new RegExp("^" + g.replace(/[.+^${}()|[\]\\]/g, "\\$&")
  .replace(/\*\*\//g, "(.*/)?").replace(/\*/g, "[^/]*") + "(/.*)?$");
for (const s of stages) {
  for (const c of s.instrs.filter((i) => i.op === "COPY" && !/--from=/.test(i.args))) {
    const parts = c.args.replace(/--\S+\s+/g, "").split(/\s+/);
    for (const src of parts.slice(0, -1)) {
      if (src === ".") continue;
      if (!existsSync(join(root, src))) err(`${df}:${c.line}`, `COPY source ${src} does not exist`);
      if (ignores.some((g) => globRe(g).test(src))) err(`${df}:${c.line}`, `COPY source ${src} is excluded by .dockerignore`);
    }
  }
}
if (!errors.length) ok(`${df}: ${stages.length} stages (${stages.map((s) => s.image).join(", ")}), builder runs install-deps.sh + make build, USER 1001, HEALTHCHECK, STOPSIGNAL SIGQUIT`);

/* ---------------------------------------------------------------------- */
/* docker-compose.yml                                                      */
/* ---------------------------------------------------------------------- */

const cf = "docker/docker-compose.yml";
const before = errors.length;
let compose = {};
try {
  compose = parse(readFileSync(join(root, cf), "utf8"), { uniqueKeys: true }) || {};
} catch (e) {
  err(cf, `YAML: ${e.message.split("\n")[0]}`);
}
const svcs = compose.services || {};
const known = new Set(["build", "image", "ports", "environment", "depends_on", "read_only",
  "tmpfs", "cap_drop", "security_opt", "healthcheck", "stop_signal", "stop_grace_period",
  "restart", "volumes", "command", "env_file", "user", "networks", "expose"]);
const server = Object.entries(svcs).find(([, s]) => s.build);
const pg = Object.entries(svcs).find(([, s]) => /^postgres:/.test(s.image || ""));
const rd = Object.entries(svcs).find(([, s]) => /^redis:/.test(s.image || ""));
if (!server) err(cf, "no service built from docker/Dockerfile");
if (!pg) err(cf, "no postgres service");
else if (!/^postgres:16[.-]/.test(pg[1].image) || !pinned(pg[1].image)) err(cf, `postgres must be 16, pinned to an exact tag (${pg[1].image})`);
if (!rd) err(cf, "no redis service");
else if (!/^redis:7[.-]/.test(rd[1].image) || !pinned(rd[1].image)) err(cf, `redis must be 7, pinned to an exact tag (${rd[1].image})`);
for (const [name, s] of Object.entries(svcs)) {
  for (const k of Object.keys(s)) if (!known.has(k)) err(cf, `services.${name}: unknown key ${k}`);
  if (!s.healthcheck?.test) err(cf, `services.${name}: no healthcheck`);
  for (const v of s.volumes || []) {
    const vn = String(v).split(":")[0];
    if (!vn.startsWith(".") && !vn.startsWith("/") && !(compose.volumes && vn in compose.volumes))
      err(cf, `services.${name}: volume ${vn} is not declared`);
  }
}
if (server) {
  const [name, s] = server;
  const b = s.build;
  if (!existsSync(join(root, "docker", b.context || ".", b.dockerfile || "Dockerfile")))
    err(cf, `services.${name}.build does not point at docker/Dockerfile`);
  for (const dep of [pg, rd].filter(Boolean))
    if (s.depends_on?.[dep[0]]?.condition !== "service_healthy")
      err(cf, `services.${name}.depends_on.${dep[0]} must wait for condition service_healthy`);
  const env = s.environment || {};
  for (const v of ["DATABASE_URL", "REDIS_URL", "MCP_ALLOWED_HOSTS"])
    if (!(v in env)) err(cf, `services.${name}.environment lacks ${v}`);
  if (pg && !String(env.DATABASE_URL || "").includes(`@${pg[0]}:`)) err(cf, "DATABASE_URL does not name the postgres service");
  if (rd && !String(env.REDIS_URL || "").includes(`//${rd[0]}:`) && !String(env.REDIS_URL || "").includes(`@${rd[0]}:`))
    err(cf, "REDIS_URL does not name the redis service");
  // --scale: replicas cannot share a container name or one fixed host port
  if (s.container_name) err(cf, `services.${name}: container_name prevents --scale ${name}=N`);
  for (const p of s.ports || []) {
    const m = String(p).match(/^(?:[\d.]+:)?([\d-]+):\d+(?:\/\w+)?$/);
    if (m && !m[1].includes("-"))
      err(cf, `services.${name}.ports ${p}: one host port, so --scale ${name}=N fails; publish a range (8000-8009:8000)`);
  }
  if (!/^redis:\/\//.test(String(env.REDIS_URL || "")))
    err(cf, `services.${name}.environment.REDIS_URL must be a redis:// URL (the replicas' shared session store)`);
  if (!String(env.MCP_ALLOWED_HOSTS || "").split(/\s+/).includes(name))
    err(cf, `MCP_ALLOWED_HOSTS must list the service name ${name} (other containers reach it by that name)`);
  if (!(s.tmpfs || []).some((t) => String(t).startsWith("/tmp")) && s.read_only)
    err(cf, `services.${name}: read_only needs a tmpfs on /tmp`);
}
if (pg && !(pg[1].volumes || []).some((v) => String(v).includes("/var/lib/postgresql/data")))
  err(cf, "postgres data is not on a volume");
if (rd && !(rd[1].volumes || []).some((v) => String(v).includes(":/data")))
  err(cf, "redis data is not on a volume");
if (errors.length === before)
  ok(`${cf}: ${Object.keys(svcs).join(", ")}; pinned images, health checks, depends_on service_healthy, volumes`);

if (errors.length) {
  for (const e of errors) console.log(`  FAIL ${e}`);
  process.exit(1);
}
