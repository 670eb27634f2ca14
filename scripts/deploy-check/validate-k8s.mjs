// Offline validation of k8s/ (scripts/check-deploy.sh runs it).
//
//   node validate-k8s.mjs K8S_DIR OUT_JSON
//
// 1. Every manifest (every *.yaml but kustomization.yaml) against the Kubernetes
//    API schemas compiled into the pinned kubernetes-models package: types,
//    required fields, enums, formats.  Strict like `kubectl apply
//    --validate=strict`: a field the API does not know is an error too (the
//    property lists are read from the package's type declarations).  Custom
//    resources, which the package has no schema for (the ServiceMonitor of the
//    Prometheus Operator), get a structural check of their own instead: the
//    fields of their API and the types of their values.
// 2. kustomization.yaml: known keys, every resource exists, every manifest
//    listed but the examples and the custom resources, which must not be (the
//    base applies on a cluster without their CRDs; they are applied on their own).
// 3. What the deployment needs to hang together: selectors match the pod labels,
//    ports resolve, ConfigMap/Secret references exist, the config checksum is
//    current, probes hit health paths, security context, grace period sized for
//    draining, the Ingress keeps SSE working (and no session affinity once
//    REDIS_URL shares the sessions), the allowed hosts cover the
//    Service and Ingress names, the Secret holds no real secret; the
//    ServiceMonitor selects the Service, names a port of it that reaches nginx,
//    scrapes /metrics, lives in the kustomization's namespace, and the
//    NetworkPolicy lets Prometheus in.
//
// Writes OUT_JSON for the shell part (nginx -t, probes): the ConfigMap's
// nginx.conf, the container's environment, the probes with resolved ports.
// Exit status 1 and one line per problem when anything is wrong.

import { createHash } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const [k8sDir, outFile] = process.argv.slice(2);
if (!k8sDir || !outFile) {
  console.error("usage: validate-k8s.mjs K8S_DIR OUT_JSON");
  process.exit(2);
}

const errors = [];
const err = (where, msg) => errors.push(`${where}: ${msg}`);
const ok = (msg) => console.log(`  ok   ${msg}`);

/* ---------------------------------------------------------------------- */
/* Strict mode: property lists from the packages' .d.ts files              */
/* ---------------------------------------------------------------------- */

// canonical interface name (IIoK8s...) -> { prop: typeString }
const ifaces = new Map();

function scanDts(dir) {
  for (const ent of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, ent.name);
    if (ent.isDirectory()) {
      if (ent.name !== "node_modules") scanDts(p);
    } else if (ent.name.endsWith(".d.ts")) {
      parseDts(readFileSync(p, "utf8"));
    }
  }
}

function parseDts(text) {
  // local interface name -> canonical alias
  const alias = new Map();
  for (const m of text.matchAll(/export type \{([^}]*)\}/g)) {
    for (const part of m[1].split(",")) {
      const mm = part.trim().match(/^(\w+) as (\w+)$/);
      if (mm) alias.set(mm[1], mm[2]);
    }
  }
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = lines[i].match(/^export interface (\w+)(?: extends [\w, ]+)? \{/);
    if (!m) continue;
    const local = m[1];
    const canon = alias.get(local) || local;
    const props = {};
    for (i++; i < lines.length && lines[i] !== "}"; i++) {
      const pm = lines[i].match(/^    "([^"]+)"\??: (.*)$/);
      if (!pm) continue;
      let type = pm[2].replace(/;$/, "");
      if (type === "{") type = "map";
      // a reference to another interface of the same file by its local name
      if (!type.startsWith('"'))
        type = type.replace(/\b(\w+)\b/g, (w) => alias.get(w) || w);
      props[pm[1]] = type;
    }
    ifaces.set(canon, props);
  }
}

function modelsDir(pkg) {
  return dirname(require.resolve(`${pkg}/package.json`));
}

scanDts(modelsDir("kubernetes-models"));
scanDts(join(here, "node_modules/@kubernetes-models/apimachinery"));

function strict(value, type, path, where) {
  if (value === null || value === undefined) return;
  const arr = type.match(/^Array<(.*)>$/);
  if (arr) {
    if (Array.isArray(value))
      value.forEach((v, i) => strict(v, arr[1], `${path}[${i}]`, where));
    return; // a type error, reported by the schema validation
  }
  const props = ifaces.get(type);
  if (!props || typeof value !== "object" || Array.isArray(value)) return;
  for (const [k, v] of Object.entries(value)) {
    if (!(k in props)) {
      err(where, `unknown field "${path}.${k}"`);
      continue;
    }
    strict(v, props[k], `${path}.${k}`, where);
  }
}

/* ---------------------------------------------------------------------- */
/* Schema validation                                                       */
/* ---------------------------------------------------------------------- */

async function modelFor(apiVersion, kind) {
  const group = apiVersion.includes("/") ? apiVersion : `v1`;
  const mod = apiVersion.includes("/") ? group : "v1";
  try {
    const m = await import(`kubernetes-models/${mod}/${kind}`);
    return m[kind];
  } catch {
    return null;
  }
}

function canonicalOf(apiVersion, kind) {
  // the interface whose "kind" is KIND and "apiVersion" APIVERSION
  for (const [name, props] of ifaces) {
    if (props.kind === `"${kind}"` && props.apiVersion === `"${apiVersion}"`)
      return name;
  }
  return null;
}

/* ---------------------------------------------------------------------- */
/* Custom resources: a structural check instead of a schema                */
/* ---------------------------------------------------------------------- */

// A shape is "string", "boolean", "integer", "any" (a field known, its value
// not checked here), or { object: { field: shape }, required: [field] },
// { array: shape }, { map: shape } (any keys), { enum: [value] },
// { pattern: RegExp } (a string).  Unknown fields of an object are errors.
function shaped(value, shape, path, where) {
  const at = path || "/";
  if (value === undefined || value === null) return;
  if (shape === "any") return;
  if (shape === "string" || shape === "boolean") {
    if (typeof value !== shape) err(where, `${at}: must be a ${shape}`);
  } else if (shape === "integer") {
    if (!Number.isInteger(value)) err(where, `${at}: must be an integer`);
  } else if (shape.enum) {
    if (!shape.enum.includes(value)) err(where, `${at}: must be one of ${shape.enum.join(", ")}`);
  } else if (shape.pattern) {
    if (typeof value !== "string" || !shape.pattern.test(value))
      err(where, `${at}: ${JSON.stringify(value)} does not match ${shape.pattern}`);
  } else if (shape.array) {
    if (!Array.isArray(value)) err(where, `${at}: must be an array`);
    else value.forEach((v, i) => shaped(v, shape.array, `${path}[${i}]`, where));
  } else if (typeof value !== "object" || Array.isArray(value)) {
    err(where, `${at}: must be an object`);
  } else if (shape.map) {
    for (const [k, v] of Object.entries(value)) shaped(v, shape.map, `${path}.${k}`, where);
  } else {
    for (const k of shape.required || [])
      if (value[k] === undefined || value[k] === null) err(where, `${path}.${k} is required`);
    for (const [k, v] of Object.entries(value)) {
      if (!(k in shape.object)) err(where, `unknown field "${path}.${k}"`);
      else shaped(v, shape.object[k], `${path}.${k}`, where);
    }
  }
}

// Prometheus durations (1h30m, 15s, 500ms): the operator's pattern
const promDuration = { pattern: /^(0|(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?)$/ };
const labelSelector = {
  object: {
    matchLabels: { map: "string" },
    matchExpressions: {
      array: {
        object: { key: "string", operator: { enum: ["In", "NotIn", "Exists", "DoesNotExist"] },
                  values: { array: "string" } },
        required: ["key", "operator"],
      },
    },
  },
};
const customMetadata = {
  object: { name: "string", namespace: "string", labels: { map: "string" },
            annotations: { map: "string" } },
  required: ["name"],
};

// The Prometheus Operator's monitoring.coreos.com/v1 ServiceMonitor: the fields
// of ServiceMonitorSpec and Endpoint (pkg/apis/monitoring/v1, up to v0.8x);
// authorization, TLS, relabelling and the like known by name only.
const serviceMonitor = {
  object: {
    apiVersion: "string",
    kind: "string",
    metadata: customMetadata,
    spec: {
      object: {
        jobLabel: "string", targetLabels: { array: "string" }, podTargetLabels: { array: "string" },
        endpoints: {
          array: {
            object: {
              port: "string", targetPort: "any", path: { pattern: /^\// },
              scheme: { enum: ["http", "https", "HTTP", "HTTPS"] }, params: { map: { array: "string" } },
              interval: promDuration, scrapeTimeout: promDuration,
              honorLabels: "boolean", honorTimestamps: "boolean", trackTimestampsStaleness: "boolean",
              metricRelabelings: { array: "any" }, relabelings: { array: "any" },
              filterRunning: "boolean", bearerTokenFile: "string", bearerTokenSecret: "any",
              authorization: "any", basicAuth: "any", oauth2: "any", tlsConfig: "any",
              followRedirects: "boolean", enableHttp2: "boolean", proxyUrl: "string",
              noProxy: "string", proxyFromEnvironment: "boolean", proxyConnectHeader: "any",
            },
          },
        },
        selector: labelSelector,
        selectorMechanism: { enum: ["RelabelConfig", "RoleSelector"] },
        namespaceSelector: { object: { any: "boolean", matchNames: { array: "string" } } },
        sampleLimit: "integer", targetLimit: "integer", labelLimit: "integer",
        labelNameLengthLimit: "integer", labelValueLengthLimit: "integer",
        keepDroppedTargets: "integer", scrapeProtocols: { array: "string" },
        fallbackScrapeProtocol: "string", scrapeClassicHistograms: "boolean",
        nativeHistogramBucketLimit: "integer", nativeHistogramMinBucketFactor: "any",
        convertClassicHistogramsToNHCB: "boolean", attachMetadata: { object: { node: "boolean" } },
        scrapeClass: "string", bodySizeLimit: "string",
        serviceDiscoveryRole: { enum: ["Endpoints", "EndpointSlice"] },
      },
      required: ["selector", "endpoints"],
    },
  },
  required: ["apiVersion", "kind", "metadata", "spec"],
};

// "apiVersion kind" -> { shape, needs: what installs the CRDs }
const customResources = {
  "monitoring.coreos.com/v1 ServiceMonitor": {
    shape: serviceMonitor,
    needs: "the Prometheus Operator's CRDs",
  },
};

const objects = []; // { file, obj, where, custom }

const files = readdirSync(k8sDir)
  .filter((f) => /\.ya?ml$/.test(f) && !/^kustomization\.ya?ml$/.test(f))
  .sort();

if (files.length === 0) err(k8sDir, "no manifests");

for (const f of files) {
  const text = readFileSync(join(k8sDir, f), "utf8");
  const docs = parseAllDocuments(text, { uniqueKeys: true });
  for (const d of docs) {
    if (d.errors.length) {
      for (const e of d.errors) err(f, `YAML: ${e.message.split("\n")[0]}`);
      continue;
    }
    const obj = d.toJS();
    if (obj === null) continue;
    const where = `${f} ${obj.kind || "?"}/${obj.metadata?.name || "?"}`;
    if (!obj.apiVersion || !obj.kind) {
      err(where, "apiVersion and kind are required");
      continue;
    }
    const Model = await modelFor(obj.apiVersion, obj.kind);
    const canon = canonicalOf(obj.apiVersion, obj.kind);
    const custom = customResources[`${obj.apiVersion} ${obj.kind}`];
    if ((!Model || !canon) && custom) {
      const before = errors.length;
      shaped(obj, custom.shape, "", where);
      if (errors.length === before)
        ok(`${where}: valid ${obj.apiVersion} ${obj.kind} (strict, structural: no schema for ${custom.needs})`);
      objects.push({ file: f, obj, where, custom: custom.needs });
      continue;
    }
    if (!Model || !canon) {
      err(where, `unknown API ${obj.apiVersion} ${obj.kind}`);
      continue;
    }
    const before = errors.length;
    try {
      new Model(obj).validate();
    } catch (e) {
      const list = e.errors || [{ instancePath: "", message: e.message }];
      for (const x of list)
        err(where, `schema: ${x.instancePath || "/"} ${x.message}` +
          (x.params?.allowedValues ? ` (${x.params.allowedValues})` : ""));
    }
    strict(obj, canon, "", where);
    if (!obj.metadata?.name) err(where, "metadata.name is required");
    if (errors.length === before)
      ok(`${where}: valid ${obj.apiVersion} ${obj.kind} (strict)`);
    objects.push({ file: f, obj, where });
  }
}

/* ---------------------------------------------------------------------- */
/* kustomization.yaml                                                      */
/* ---------------------------------------------------------------------- */

const kfile = join(k8sDir, "kustomization.yaml");
let namespace = "default";
if (!existsSync(kfile)) {
  err("kustomization.yaml", "missing");
} else {
  const k = parseAllDocuments(readFileSync(kfile, "utf8"))[0].toJS();
  const known = new Set(["apiVersion", "kind", "namespace", "labels",
    "commonAnnotations", "resources", "images", "configMapGenerator",
    "secretGenerator", "patches", "replicas", "namePrefix", "nameSuffix",
    "components", "generatorOptions"]);
  for (const key of Object.keys(k))
    if (!known.has(key)) err("kustomization.yaml", `unknown or deprecated key "${key}"`);
  if (k.apiVersion !== "kustomize.config.k8s.io/v1beta1" || k.kind !== "Kustomization")
    err("kustomization.yaml", "apiVersion/kind must be kustomize.config.k8s.io/v1beta1 Kustomization");
  if (k.namespace) namespace = k.namespace;
  const res = k.resources || [];
  for (const r of res)
    if (!existsSync(join(k8sDir, r))) err("kustomization.yaml", `resource ${r} does not exist`);
  // a file of custom resources only is applied on its own: listed, `kubectl
  // apply -k` would fail on every cluster without their CRDs
  const customOf = (f) => {
    const l = objects.filter((o) => o.file === f);
    return l.length > 0 && l.every((o) => o.custom) ? l[0].custom : null;
  };
  const alone = [];
  for (const f of files) {
    const needs = customOf(f);
    if (needs && res.includes(f))
      err("kustomization.yaml", `${f} needs ${needs}: keep it out of resources (apply it on its own), ` +
        "or kubectl apply -k fails on clusters without them");
    else if (needs || /example/.test(f)) alone.push(f);
    else if (!res.includes(f)) err("kustomization.yaml", `${f} is not listed in resources`);
  }
  const kinds = new Set(objects.filter((o) => res.includes(o.file)).map((o) => o.obj.kind));
  for (const want of ["Deployment", "Service", "ConfigMap", "Ingress",
    "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"])
    if (!kinds.has(want)) err("kustomization.yaml", `no ${want} among the resources`);
  for (const img of k.images || [])
    if (!img.newTag || img.newTag === "latest")
      err("kustomization.yaml", `image ${img.name}: pin newTag to a version`);
  ok(`kustomization.yaml: ${res.length} resources, namespace ${namespace}; applied on their own: ${alone.join(", ") || "none"}`);
}

/* ---------------------------------------------------------------------- */
/* How the objects fit together                                            */
/* ---------------------------------------------------------------------- */

const byKind = (kind) => objects.filter((o) => o.obj.kind === kind);
const one = (kind) => {
  const l = byKind(kind);
  if (l.length !== 1) err(kind, `expected exactly one, found ${l.length}`);
  return l[0];
};

function matches(selector, labels) {
  const ml = selector?.matchLabels ?? selector ?? {};
  if (Object.keys(ml).length === 0) return false;
  return Object.entries(ml).every(([k, v]) => labels?.[k] === v);
}

// a Prometheus duration (1h30m, 15s, 500ms) in seconds
function promSeconds(v) {
  const unit = { y: 31536000, w: 604800, d: 86400, h: 3600, m: 60, s: 1, ms: 0.001 };
  let n = 0;
  for (const [, k, u] of String(v).matchAll(/(\d+)(ms|y|w|d|h|m|s)/g)) n += Number(k) * unit[u];
  return n;
}

function seconds(v) {
  const m = String(v).match(/^(\d+)(ms|s|m|h)?$/);
  if (!m) return NaN;
  const n = Number(m[1]);
  return { ms: n / 1000, s: n, m: n * 60, h: n * 3600, undefined: n }[m[2]];
}

const out = { probes: [], env: {}, nginxConf: null, listenPort: null, hosts: [] };
const dep = one("Deployment");
const cm = byKind("ConfigMap");
const secrets = byKind("Secret");

if (dep) {
  const D = dep.obj;
  const w = dep.where;
  const pod = D.spec.template;
  const labels = pod.metadata?.labels || {};
  const ps = pod.spec;
  const c = ps.containers?.[0] || {};

  if (D.spec.replicas !== 3) err(w, "spec.replicas must be 3");
  if (!matches(D.spec.selector, labels)) err(w, "selector does not match the pod labels");

  // security
  const psc = ps.securityContext || {};
  const csc = c.securityContext || {};
  if (psc.runAsNonRoot !== true && csc.runAsNonRoot !== true) err(w, "runAsNonRoot must be true");
  if ((csc.runAsUser ?? psc.runAsUser) !== 1001) err(w, "runAsUser must be 1001 (the image's user)");
  if (csc.readOnlyRootFilesystem !== true) err(w, "readOnlyRootFilesystem must be true");
  if (csc.allowPrivilegeEscalation !== false) err(w, "allowPrivilegeEscalation must be false");
  if (!(csc.capabilities?.drop || []).includes("ALL")) err(w, "capabilities must drop ALL");
  if ((csc.capabilities?.add || []).length) err(w, "no capabilities may be added");
  if ((csc.seccompProfile ?? psc.seccompProfile)?.type !== "RuntimeDefault")
    err(w, "seccompProfile must be RuntimeDefault");
  for (const r of ["requests", "limits"])
    for (const q of ["cpu", "memory"])
      if (!c.resources?.[r]?.[q]) err(w, `resources.${r}.${q} is missing`);

  // topology spread
  const tsc = ps.topologySpreadConstraints || [];
  if (tsc.length === 0) err(w, "topologySpreadConstraints missing");
  for (const t of tsc)
    if (!matches(t.labelSelector, labels)) err(w, `topology spread on ${t.topologyKey}: selector does not match the pods`);

  // ConfigMap volume, checksum
  const vols = Object.fromEntries((ps.volumes || []).map((v) => [v.name, v]));
  const mounts = c.volumeMounts || [];
  const cfgMount = mounts.find((m) => vols[m.name]?.configMap);
  if (!cfgMount) {
    err(w, "no ConfigMap volume mounted");
  } else {
    const v = vols[cfgMount.name].configMap;
    const cmo = cm.find((o) => o.obj.metadata.name === v.name);
    if (!cmo) {
      err(w, `ConfigMap ${v.name} is not among the manifests`);
    } else {
      const item = (v.items || []).find((i) => i.key === "nginx.conf");
      const conf = cmo.obj.data?.["nginx.conf"];
      if (!conf) err(cmo.where, "data.nginx.conf missing");
      if (!item) err(w, "the ConfigMap volume does not project nginx.conf");
      else if (cfgMount.mountPath !== "/etc/nginx/templates" || item.path !== "nginx.conf.template")
        err(w, "nginx.conf must be mounted as /etc/nginx/templates/nginx.conf.template (the entrypoint renders it)");
      if (conf) {
        out.nginxConf = conf;
        const sum = createHash("sha256").update(conf).digest("hex");
        const ann = pod.metadata?.annotations?.["checksum/config"];
        if (ann !== sum)
          err(w, `template annotation checksum/config is ${ann ? "stale" : "missing"}: set it to "${sum}"`);
        else ok(`${w}: checksum/config matches the ConfigMap's nginx.conf`);
        const wst = conf.match(/^\s*worker_shutdown_timeout\s+(\S+);/m);
        out.shutdownTimeout = wst ? seconds(wst[1]) : null;
      }
    }
  }
  const tmp = mounts.find((m) => m.mountPath === "/tmp");
  if (!tmp || !vols[tmp.name]?.emptyDir) err(w, "/tmp must be a writable emptyDir (read-only root)");

  // ports and probes
  const ports = Object.fromEntries((c.ports || []).map((p) => [p.name, p.containerPort]));
  const resolvePort = (p) => (typeof p === "number" ? p : ports[p]);
  for (const kind of ["startupProbe", "livenessProbe", "readinessProbe"]) {
    const p = c[kind];
    if (!p) { err(w, `${kind} missing`); continue; }
    if (!p.httpGet) { err(w, `${kind} must be an httpGet probe`); continue; }
    const port = resolvePort(p.httpGet.port);
    if (port === undefined) err(w, `${kind}: port ${p.httpGet.port} is not a container port`);
    if (!/^\/health\//.test(p.httpGet.path || "")) err(w, `${kind}: path ${p.httpGet.path} is not a health location`);
    out.probes.push({ kind, path: p.httpGet.path, port, scheme: p.httpGet.scheme || "HTTP" });
  }
  if (c.readinessProbe?.httpGet?.path !== "/health/ready") err(w, "readinessProbe must ask /health/ready");
  if (c.livenessProbe?.httpGet?.path !== "/health/live") err(w, "livenessProbe must ask /health/live");

  // draining: preStop sleep + worker_shutdown_timeout < grace period
  const pre = c.lifecycle?.preStop?.exec?.command?.join(" ") || "";
  const sleep = Number(pre.match(/sleep (\d+)/)?.[1] ?? NaN);
  const grace = ps.terminationGracePeriodSeconds ?? 30;
  out.preStop = c.lifecycle?.preStop?.exec?.command || null;
  if (!pre) err(w, "preStop hook missing");
  else if (!/-s quit/.test(pre)) err(w, "preStop must shut nginx down gracefully (nginx -s quit)");
  if (out.shutdownTimeout == null) err(w, "nginx.conf sets no worker_shutdown_timeout: streams would hold the pod until SIGKILL");
  else if (!(sleep + out.shutdownTimeout < grace))
    err(w, `terminationGracePeriodSeconds ${grace} must exceed preStop sleep ${sleep} + worker_shutdown_timeout ${out.shutdownTimeout}`);
  else ok(`${w}: grace ${grace}s > preStop ${sleep}s + worker_shutdown_timeout ${out.shutdownTimeout}s`);

  // environment: literal values, Secret references resolved from the example
  for (const e of c.env || []) {
    if (e.value !== undefined) {
      out.env[e.name] = e.value;
    } else if (e.valueFrom?.secretKeyRef) {
      const r = e.valueFrom.secretKeyRef;
      const s = secrets.find((o) => o.obj.metadata.name === r.name);
      const val = s?.obj.stringData?.[r.key];
      if (val === undefined && !r.optional) err(w, `env ${e.name}: Secret ${r.name} key ${r.key} not found`);
      if (val === undefined && r.optional && !s) err(w, `env ${e.name}: no example Secret ${r.name}`);
      if (val !== undefined) out.env[e.name] = val;
    } else if (e.valueFrom?.configMapKeyRef) {
      const r = e.valueFrom.configMapKeyRef;
      const m = cm.find((o) => o.obj.metadata.name === r.name);
      if (m?.obj.data?.[r.key] === undefined) err(w, `env ${e.name}: ConfigMap ${r.name} key ${r.key} not found`);
      else out.env[e.name] = m.obj.data[r.key];
    }
  }
  out.hosts = (out.env.MCP_ALLOWED_HOSTS || "").split(/\s+/).filter(Boolean);

  // Service
  for (const s of byKind("Service")) {
    const S = s.obj;
    if (!matches(S.spec.selector, labels)) err(s.where, "selector does not match the Deployment's pods");
    for (const p of S.spec.ports || [])
      if (resolvePort(p.targetPort ?? p.port) === undefined)
        err(s.where, `targetPort ${p.targetPort} is not a container port`);
    const n = S.metadata.name;
    for (const h of [n, `${n}.${namespace}`, `${n}.${namespace}.svc`, `${n}.${namespace}.svc.cluster.local`])
      if (!out.hosts.includes(h)) err(w, `MCP_ALLOWED_HOSTS lacks the Service name ${h}: requests through it would get 403`);
    out.serviceHosts = [n, `${n}.${namespace}.svc.cluster.local`];
  }

  // Ingress
  for (const g of byKind("Ingress")) {
    const I = g.obj;
    const a = I.metadata.annotations || {};
    const pre = "nginx.ingress.kubernetes.io/";
    if (I.spec.ingressClassName !== "nginx") err(g.where, "ingressClassName must be nginx (ingress-nginx)");
    if (a[pre + "proxy-buffering"] !== "off") err(g.where, "proxy-buffering must be \"off\" (SSE)");
    if (a[pre + "proxy-request-buffering"] !== "off") err(g.where, "proxy-request-buffering must be \"off\"");
    for (const t of ["proxy-read-timeout", "proxy-send-timeout"])
      if (!(Number(a[pre + t]) >= 3600)) err(g.where, `${t} must be at least 3600 (long-lived streams)`);
    // sessions shared through Redis: affinity would only pin clients to pods
    if ("REDIS_URL" in out.env)
      for (const k of ["affinity", "session-cookie-name", "upstream-hash-by"])
        if (a[pre + k] !== undefined)
          err(g.where, `${k}: the pods share sessions through Redis (REDIS_URL), no session affinity wanted`);
    for (const r of I.spec.rules || []) {
      if (r.host && !out.hosts.includes(r.host))
        err(w, `MCP_ALLOWED_HOSTS lacks the Ingress host ${r.host}`);
      if (r.host) out.ingressHost = r.host;
      for (const p of r.http?.paths || []) {
        const b = p.backend.service;
        const svc = byKind("Service").find((o) => o.obj.metadata.name === b?.name);
        if (!svc) { err(g.where, `backend Service ${b?.name} not found`); continue; }
        const sp = (svc.obj.spec.ports || []).find((x) =>
          b.port.name !== undefined ? x.name === b.port.name : x.port === b.port.number);
        if (!sp) err(g.where, `backend port ${JSON.stringify(b.port)} not on Service ${b.name}`);
        out.mcpPath = p.path;
      }
    }
  }

  // HPA, PDB, NetworkPolicy
  for (const h of byKind("HorizontalPodAutoscaler")) {
    const t = h.obj.spec.scaleTargetRef;
    if (t.kind !== "Deployment" || t.name !== D.metadata.name || t.apiVersion !== "apps/v1")
      err(h.where, "scaleTargetRef is not the Deployment");
    if ((h.obj.spec.minReplicas ?? 1) < D.spec.replicas)
      err(h.where, `minReplicas below the Deployment's ${D.spec.replicas}`);
    if (!c.resources?.requests?.cpu) err(h.where, "CPU utilization needs resources.requests.cpu");
  }
  for (const p of byKind("PodDisruptionBudget")) {
    if (!matches(p.obj.spec.selector, labels)) err(p.where, "selector does not match the pods");
    const ma = p.obj.spec.minAvailable;
    if (typeof ma === "number" && ma >= D.spec.replicas)
      err(p.where, "minAvailable leaves no disruption allowed: drains would block");
  }
  for (const n of byKind("NetworkPolicy")) {
    if (!matches(n.obj.spec.podSelector, labels)) err(n.where, "podSelector does not match the pods");
    const allowsHttp = (n.obj.spec.ingress || []).some((r) =>
      (r.ports || []).some((p) => resolvePort(p.port) === ports.http));
    if (!allowsHttp) err(n.where, "no ingress rule reaches the http port");
  }
  const lp = out.nginxConf?.match(/^\s*listen\s+(?:[\d.]+:)?(\d+)[^;]*;/m);
  out.listenPort = lp ? Number(lp[1]) : null;
  if (ports.http !== out.listenPort)
    err(w, `containerPort http ${ports.http} differs from nginx.conf's listen ${out.listenPort}`);

  // ServiceMonitor: Prometheus finds the Service by its labels and scrapes every
  // pod behind it on the container port of the Service port it names
  for (const m of byKind("ServiceMonitor")) {
    const M = m.obj;
    const before = errors.length;
    if (M.metadata.namespace !== namespace)
      err(m.where, `metadata.namespace must be the kustomization's namespace ${namespace} ` +
        "(applied on its own, it gets no namespace from the kustomization)");
    const nsel = M.spec.namespaceSelector;
    if (nsel && !nsel.any && nsel.matchNames && !nsel.matchNames.includes(namespace))
      err(m.where, `namespaceSelector.matchNames lacks the Service's namespace ${namespace}`);
    if (M.spec.selector?.matchExpressions)
      err(m.where, "selector: use matchLabels only (compared with the Service's labels here)");
    const svcs = byKind("Service").filter((s) => matches(M.spec.selector, s.obj.metadata.labels));
    if (svcs.length !== 1)
      err(m.where, `selector ${JSON.stringify(M.spec.selector?.matchLabels ?? {})} matches the labels ` +
        `of ${svcs.length} Services, expected exactly one`);
    const svc = svcs[0]?.obj;
    const eps = M.spec.endpoints || [];
    if (eps.length === 0) err(m.where, "spec.endpoints is empty: nothing is scraped");
    const scraped = [];
    eps.forEach((e, i) => {
      const at = `spec.endpoints[${i}]`;
      if (!e.port) {
        err(m.where, `${at}.port: name a port of the Service`);
        return;
      }
      const sp = (svc?.spec.ports || []).find((p) => p.name === e.port);
      if (svc && !sp) {
        err(m.where, `${at}.port ${e.port} is not a named port of Service ${svc.metadata.name} ` +
          `(${(svc.spec.ports || []).map((p) => p.name).join(", ")})`);
        return;
      }
      if (!sp) return;
      const cport = resolvePort(sp.targetPort ?? sp.port);
      if (cport !== out.listenPort)
        err(m.where, `${at}.port ${e.port} reaches container port ${cport}, not nginx's listen port ${out.listenPort}`);
      if (e.path !== "/metrics") err(m.where, `${at}.path must be /metrics (the module's location), not ${e.path ?? "unset"}`);
      if (e.scheme && e.scheme.toLowerCase() !== "http") err(m.where, `${at}.scheme: nginx listens for plain HTTP`);
      if (!e.interval) err(m.where, `${at}.interval is unset (Prometheus' global interval): set it`);
      else if (e.scrapeTimeout && promSeconds(e.scrapeTimeout) > promSeconds(e.interval))
        err(m.where, `${at}.scrapeTimeout ${e.scrapeTimeout} exceeds the interval ${e.interval} (the operator rejects it)`);
      // once the ConfigMap's nginx.conf has an mcp_metrics location, it is the path
      const locs = [...(out.nginxConf || "").matchAll(/location\s+(?:=\s*)?(\S+)\s*\{[^{}]*\bmcp_metrics\b/g)]
        .map((x) => x[1]);
      if (locs.length && !locs.includes(e.path))
        err(m.where, `${at}.path ${e.path}: nginx.conf serves mcp_metrics at ${locs.join(", ")}`);
      // a NetworkPolicy of the pods must let Prometheus reach that port
      for (const n of byKind("NetworkPolicy")) {
        if (!matches(n.obj.spec.podSelector, labels)) continue;
        const admits = (n.obj.spec.ingress || []).some((r) =>
          (!r.ports || r.ports.some((p) => resolvePort(p.port) === cport)) &&
          (!r.from || r.from.some((peer) =>
            Object.values(peer.podSelector?.matchLabels || {}).includes("prometheus"))));
        if (!admits)
          err(n.where, `no ingress rule lets Prometheus (a podSelector with a label ...: prometheus) ` +
            `reach port ${e.port}: the scrapes of ${m.file} would time out`);
      }
      scraped.push(`port ${e.port} (container port ${cport}) ${e.path} every ${e.interval}`);
    });
    if (errors.length === before)
      ok(`${m.where}: Service ${svc.metadata.name}, ${scraped.join("; ")}; the NetworkPolicy admits Prometheus`);
  }
}

// Secrets: examples only
for (const s of secrets) {
  if (s.obj.data) err(s.where, "use stringData with placeholders, not data");
  for (const [k, v] of Object.entries(s.obj.stringData || {})) {
    const m = String(v).match(/^[a-z][a-z0-9+.-]*:\/\/[^:@/]*:([^@/]*)@/i);
    if (m && m[1] !== "CHANGE-ME") err(s.where, `${k}: the password must be the placeholder CHANGE-ME`);
    if (!m && !/CHANGE-ME/.test(v)) err(s.where, `${k}: must hold the placeholder CHANGE-ME`);
  }
  if (!errors.some((e) => e.startsWith(s.where))) ok(`${s.where}: placeholders only`);
}

writeFileSync(outFile, JSON.stringify(out, null, 2));

if (errors.length) {
  for (const e of errors) console.log(`  FAIL ${e}`);
  process.exit(1);
}
ok(`cross-references: selectors, ports, volumes, env, Service/Ingress names in MCP_ALLOWED_HOSTS, the ServiceMonitor`);
