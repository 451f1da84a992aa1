#!/usr/bin/env node
// Checks of deploy/ for tests/deploy/deploy_test.sh. Offline: every schema comes from the npm
// packages pinned in tests/peers (see tests/deploy/schemas/README.md).
//
//   check_deploy.cjs validate RENDERED.yaml...      schemas, strict fields, references, policy
//                                                   (incl. init containers, Jobs, model volumes)
//   check_deploy.cjs metrics --exported FILE --expected FILE --rendered F... --rules F...
//                            --tests F... --dashboard FILE
//                                                   every facefuse metric referenced exists
//   check_deploy.cjs dashboard FILE                 Grafana dashboard structure
//   check_deploy.cjs scrape-config FILE             the kubernetes_sd scrape job's labels
//   check_deploy.cjs prometheusrule RULES.yml...    print the PrometheusRule of the rule files
//
// Prints one line per check; exits 1 if anything failed.
"use strict";

const fs = require("fs");
const path = require("path");

const ROOT = path.resolve(__dirname, "..", "..");
const PEERS = path.join(ROOT, "tests", "peers");
function peer(name) {
  try {
    return require(require.resolve(name, { paths: [PEERS] }));
  } catch (e) {
    die(`cannot load npm package '${name}' from tests/peers (${e.code || e.message}): ` +
        "run scripts/install-deps.sh (it runs `npm ci` in tests/peers)");
  }
}
const YAML = peer("yaml");

let failures = 0;
function ok(msg) { console.log(`  ok    ${msg}`); }
function fail(msg) { failures++; console.log(`  FAIL  ${msg}`); }
function note(msg) { console.log(`  note  ${msg}`); }
function die(msg) { console.error(`check_deploy: ${msg}`); process.exit(2); }
function check(cond, msg, detail) { if (cond) ok(msg); else fail(detail ? `${msg}: ${detail}` : msg); return cond; }

// Kubernetes and kubectl read YAML 1.1 (0440 is octal, yes/no are booleans): parse the same way.
function parseYamlDocs(text, file) {
  const docs = YAML.parseAllDocuments(text, { version: "1.1" });
  const out = [];
  for (const d of docs) {
    if (d.errors.length) die(`${file}: YAML error: ${d.errors[0].message}`);
    const v = d.toJS({ maxAliasCount: -1 });
    if (v !== null && v !== undefined) out.push(v);
  }
  return out;
}
function readYaml(file) { return parseYamlDocs(fs.readFileSync(file, "utf8"), file); }
function id(o) { return `${o.kind}/${(o.metadata && o.metadata.name) || "?"}`; }
// JSON with sorted keys: kustomize re-orders map keys, so compare content, not layout.
function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

// ---------------------------------------------------------------------------------------------
// Schemas: kubernetes-models and its CRD packages.
const MODEL_MODULES = {
  "v1": "kubernetes-models/v1",
  "apps/v1": "kubernetes-models/apps/v1",
  "policy/v1": "kubernetes-models/policy/v1",
  "networking.k8s.io/v1": "kubernetes-models/networking.k8s.io/v1",
  "autoscaling/v2": "kubernetes-models/autoscaling/v2",
  "batch/v1": "kubernetes-models/batch/v1",
  "keda.sh/v1alpha1": "@kubernetes-models/keda/keda.sh/v1alpha1",
  "monitoring.coreos.com/v1": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1",
};
function modelPath(o) {
  const mod = MODEL_MODULES[o.apiVersion];
  if (!mod || !/^[A-Za-z]+$/.test(o.kind || "")) return null;
  return `${mod}/${o.kind}`;
}
function schemaValidate(o) {
  const p = modelPath(o);
  if (!p) return `no schema for apiVersion ${o.apiVersion} kind ${o.kind}: add its package to ` +
                 "tests/peers and MODEL_MODULES in tests/deploy/check_deploy.cjs";
  let mod;
  try { mod = peer(p); } catch (e) { return `no model ${p}`; }
  const Model = mod[o.kind];
  if (!Model) return `no model ${o.kind} in ${p}`;
  try {
    new Model(o).validate();
    return null;
  } catch (e) {
    return e.message.split("\n").slice(0, 6).join("; ");
  }
}

// Strict fields: compile every object as a literal of the package's TypeScript type. TypeScript
// rejects excess properties in object literals at any depth, which is what the API server's
// strict field validation does and what the generated JSON schemas do not.
function strictFields(objects) {
  const ts = peer("typescript");
  const file = path.join(PEERS, "__facefuse_deploy_check__.ts");
  let src = "";
  const ranges = [];
  let line = 0;
  objects.forEach(({ obj, where }, i) => {
    const p = modelPath(obj);
    if (!p) return;
    const head = `import type { I${obj.kind} as T${i} } from "${p}";\n`;
    const body = `export const o${i}: T${i} = ${JSON.stringify(obj, null, 1)};\n`;
    const start = line;
    src += head + body;
    line += (head + body).split("\n").length - 1;
    ranges.push({ start, end: line, where, obj });
  });
  const options = {
    strict: true, noEmit: true, skipLibCheck: true, types: [],
    target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10 !== undefined ? ts.ModuleResolutionKind.Node10
                                                                  : ts.ModuleResolutionKind.NodeJs,
  };
  const host = ts.createCompilerHost(options);
  const base = { getSourceFile: host.getSourceFile, fileExists: host.fileExists, readFile: host.readFile };
  host.getSourceFile = (name, lang, ...rest) =>
    path.resolve(name) === file ? ts.createSourceFile(name, src, lang) : base.getSourceFile(name, lang, ...rest);
  host.fileExists = (name) => path.resolve(name) === file || base.fileExists(name);
  host.readFile = (name) => (path.resolve(name) === file ? src : base.readFile(name));
  const program = ts.createProgram([file], options, host);
  const diags = ts.getPreEmitDiagnostics(program);
  const byObject = new Map();
  for (const d of diags) {
    const msg = ts.flattenDiagnosticMessageText(d.messageText, " ");
    let where = "(compile)";
    if (d.file && d.start !== undefined && path.resolve(d.file.fileName) === file) {
      const { line: l } = d.file.getLineAndCharacterOfPosition(d.start);
      const r = ranges.find((x) => l >= x.start && l < x.end);
      if (r) where = `${r.where} ${id(r.obj)}`;
    } else if (d.file) {
      where = path.relative(ROOT, d.file.fileName);
    }
    if (!byObject.has(where)) byObject.set(where, []);
    byObject.get(where).push(msg.length > 400 ? msg.slice(0, 400) + "..." : msg);
  }
  return byObject;
}

// ---------------------------------------------------------------------------------------------
// Helpers for the policy checks.
function durationSeconds(s) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(String(s).trim());
  if (!m) return NaN;
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2]];
}
function matches(selector, labels) {
  return Object.entries(selector || {}).every(([k, v]) => labels && labels[k] === v);
}
function podLabels(d) { return (((d.spec || {}).template || {}).metadata || {}).labels || {}; }
// The value a container sees for an environment variable: `env` wins over `envFrom`.
function envValue(container, name, configMaps) {
  for (const e of container.env || []) if (e.name === name && e.value !== undefined) return e.value;
  for (const ef of container.envFrom || []) {
    const cm = ef.configMapRef && configMaps.get(ef.configMapRef.name);
    if (cm && cm.data && cm.data[name] !== undefined) return cm.data[name];
  }
  return undefined;
}
const SPOT_KEYS = ["cloud.google.com/gke-spot", "cloud.google.com/gke-preemptible",
                   "eks.amazonaws.com/capacityType", "kubernetes.azure.com/scalesetpriority",
                   "karpenter.sh/capacity-type"];
function prefersSpot(spec) {
  const pref = ((((spec || {}).affinity || {}).nodeAffinity || {}).preferredDuringSchedulingIgnoredDuringExecution) || [];
  const tol = (spec.tolerations || []).some((t) => SPOT_KEYS.includes(t.key));
  return tol || pref.some((p) => ((p.preference || {}).matchExpressions || [])
    .some((e) => SPOT_KEYS.includes(e.key) && e.operator === "In"));
}
function excludesSpot(spec) {
  const req = ((((spec || {}).affinity || {}).nodeAffinity || {}).requiredDuringSchedulingIgnoredDuringExecution) || {};
  const terms = req.nodeSelectorTerms || [];
  if (!terms.length) return false;
  // Every term (ORed) must exclude every spot label (its expressions are ANDed).
  return terms.every((t) => SPOT_KEYS.every((k) => (t.matchExpressions || [])
    .some((e) => e.key === k && e.operator === "NotIn")));
}

// The queue's stream and group names, read from the source so a rename there fails here.
function queueNames() {
  const hpp = fs.readFileSync(path.join(ROOT, "src/tasks/redis/streams_queue.hpp"), "utf8");
  const cpp = fs.readFileSync(path.join(ROOT, "src/tasks/redis/streams_queue.cpp"), "utf8");
  const lua = fs.readFileSync(path.join(ROOT, "src/tasks/redis/queue_scripts.cpp"), "utf8");
  const prefix = (/std::string key_prefix = "([^"]+)"/.exec(hpp) || [])[1];
  const group = (/local GROUP = '([^']+)'/.exec(lua) || [])[1];
  const lanes = ((/local LANES = \{([^}]*)\}/.exec(lua) || [])[1] || "").match(/'([^']+)'/g);
  const keyed = /key_prefix \+ ":q:" \+ lane_name\(lane\)/.test(cpp);
  if (!prefix || !group || !lanes || !keyed) return null;
  return { group, streams: lanes.map((l) => `${prefix}:q:${l.replace(/'/g, "")}`) };
}


// ---------------------------------------------------------------------------------------------
// Containers beside the servers (init containers, Jobs) and the model directory.
// components/models-s3 pulls models into an emptyDir in an init container, components/models-pvc
// mounts a shared claim, overlays/models-pvc/fill fills that claim in a Job; all use /models.
const MODEL_DIR = "/models";
function isModelsPull(c) { return Array.isArray(c.args) && c.args[0] === "models" && c.args[1] === "pull"; }
function flagValue(args, flag) { const i = (args || []).indexOf(flag); return i >= 0 ? args[i + 1] : undefined; }
function under(p, dir) { return typeof p === "string" && (p === dir || p.startsWith(dir.replace(/\/+$/, "") + "/")); }
// The mount a path lies on (the deepest one holding it), or undefined.
function mountOf(c, p) {
  return (c.volumeMounts || []).filter((m) => under(p, m.mountPath))
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
}
// Whether a variable exists in the container's environment (`$(VAR)` in args expands only then;
// otherwise the kubelet passes the text "$(VAR)" on unchanged).
function envDefined(c, name, configMaps) {
  if ((c.env || []).some((e) => e.name === name)) return true;
  return (c.envFrom || []).some((ef) => {
    const cm = ef.configMapRef && configMaps.get(ef.configMapRef.name);
    return !!(cm && cm.data && cm.data[name] !== undefined);
  });
}
function addSecretRefs(referencedSecrets, containers) {
  for (const c of containers || []) {
    for (const e of c.env || []) {
      const ref = e.valueFrom && e.valueFrom.secretKeyRef;
      if (!ref) continue;
      if (!referencedSecrets.has(ref.name)) referencedSecrets.set(ref.name, new Set());
      referencedSecrets.get(ref.name).add(ref.key);
    }
  }
}
// What every container must have, servers or not: the restricted Pod Security Standard's
// container fields, requests and a memory limit, a pinned image.
function checkContainerBasics(cw, c) {
  const sc = c.securityContext || {};
  check(sc.readOnlyRootFilesystem === true && sc.allowPrivilegeEscalation === false &&
        ((sc.capabilities || {}).drop || []).includes("ALL"),
        `${cw}: read-only root filesystem, no privilege escalation, no capabilities`);
  const r = c.resources || {};
  check(r.requests && r.requests.cpu !== undefined && r.requests.memory !== undefined &&
        r.limits && r.limits.memory !== undefined, `${cw}: CPU and memory requests, memory limit`);
  check(typeof c.image === "string" && /(:[\w][\w.-]*|@sha256:[0-9a-f]{64})$/.test(c.image) &&
        !/:latest$/.test(c.image), `${cw}: image pinned (${c.image})`);
}
// Volumes, references and the model directory of one pod template (Deployment or Job).
// `claims`: every PersistentVolumeClaim of every render, by name (a Job may fill a claim that
// another overlay creates).
function checkPodVolumes(w, spec, configMaps, claims, isDeployment) {
  const containers = [...(spec.initContainers || []), ...(spec.containers || [])];
  const volumes = new Map((spec.volumes || []).map((v) => [v.name, v]));
  // ConfigMaps named by volumes and variables are in the render: a reference kustomize did not
  // rewrite to the generated (hashed) name leaves the pod stuck in ContainerCreating.
  const cmRefs = new Set();
  for (const v of volumes.values()) if (v.configMap && !v.configMap.optional) cmRefs.add(v.configMap.name);
  for (const c of containers) {
    for (const ef of c.envFrom || []) if (ef.configMapRef && !ef.configMapRef.optional) cmRefs.add(ef.configMapRef.name);
    for (const e of c.env || []) {
      const ref = e.valueFrom && e.valueFrom.configMapKeyRef;
      if (ref && !ref.optional) cmRefs.add(ref.name);
    }
  }
  if (cmRefs.size) {
    const missing = [...cmRefs].filter((n) => !configMaps.has(n));
    check(!missing.length, `${w}: the ConfigMaps it references are rendered with it`, `missing: ${missing.join(", ")}`);
  }
  for (const v of volumes.values()) {
    if (!v.persistentVolumeClaim) continue;
    const claim = claims.get(v.persistentVolumeClaim.claimName);
    check(!!claim, `${w}: volume ${v.name}: claim ${v.persistentVolumeClaim.claimName} is created by an overlay`);
    if (claim && isDeployment) {
      const modes = claim.spec.accessModes || [];
      check(modes.includes("ReadWriteMany") || modes.includes("ReadOnlyMany"),
            `${w}: volume ${v.name}: claim ${claim.metadata.name} can be mounted on several nodes at once (${modes.join(", ")})`);
    }
  }
  for (const c of containers) {
    const cw = `${w} container ${c.name}`;
    const unknown = (c.volumeMounts || []).filter((m) => !volumes.has(m.name)).map((m) => m.name);
    if ((c.volumeMounts || []).length) check(!unknown.length, `${cw}: every mount names a volume of the pod`, unknown.join(", "));
    const refs = [...new Set([...(c.command || []), ...(c.args || [])].flatMap((a) =>
      [...String(a).matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)].map((m) => m[1])))];
    if (refs.length) {
      const undefinedVars = refs.filter((n) => !envDefined(c, n, configMaps));
      check(!undefinedVars.length, `${cw}: $(${refs.join("), $(")}) in its args ${refs.length > 1 ? "are" : "is"} in its environment`,
            `not defined: ${undefinedVars.join(", ")}`);
    }
    if (isModelsPull(c)) {
      // The puller: writes --model-dir, reads --models-manifest from a mounted file.
      const dir = flagValue(c.args, "--model-dir");
      const into = mountOf(c, dir);
      check(!!into && !into.readOnly, `${cw}: models pull writes --model-dir ${dir} into a writable volume`,
            into ? `mount ${into.mountPath} is read-only` : "no volume mounted there");
      const manifest = flagValue(c.args, "--models-manifest");
      check(!!mountOf(c, manifest), `${cw}: --models-manifest ${manifest} is a mounted file`);
      continue;
    }
    // The servers. The image carries no manifest file (the built-in one is compiled in), so a
    // FACEFUSE_MODELS_MANIFEST outside every mount names nothing; and a worker given a model
    // directory but not pointed at it silently serves the image's built-in model instead.
    const manifest = (c.env || []).find((e) => e.name === "FACEFUSE_MODELS_MANIFEST");
    const manifestPath = manifest && manifest.value;
    if (manifest) check(!!mountOf(c, manifestPath), `${cw}: FACEFUSE_MODELS_MANIFEST ${manifestPath} lies on a mounted volume`);
    for (const m of (c.volumeMounts || []).filter((x) => under(x.mountPath, MODEL_DIR))) {
      const v = volumes.get(m.name) || {};
      check(m.readOnly === true && (!v.persistentVolumeClaim || v.persistentVolumeClaim.readOnly === true),
            `${cw}: mounts ${m.mountPath} read-only (only models pull writes models)`);
      check(under(manifestPath, m.mountPath), `${cw}: mounts ${m.mountPath} and serves its manifest (FACEFUSE_MODELS_MANIFEST under it)`,
            `FACEFUSE_MODELS_MANIFEST is ${manifestPath === undefined ? "not set" : manifestPath}`);
      if (v.emptyDir) {
        const fillers = (spec.initContainers || []).filter((ic) => isModelsPull(ic) &&
          (ic.volumeMounts || []).some((im) => im.name === m.name && !im.readOnly));
        check(fillers.length > 0, `${cw}: the emptyDir ${m.name} at ${m.mountPath} is filled by a models pull init container`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
function cmdValidate(files) {
  const adapterSchema = JSON.parse(fs.readFileSync(path.join(__dirname, "schemas",
    "prometheus-adapter-config.schema.json"), "utf8"));
  const Ajv = peer("ajv");
  const ajv = new (Ajv.default || Ajv)({ allErrors: true, strict: true });
  const validateAdapter = ajv.compile(adapterSchema);
  const queue = queueNames();
  if (!queue) fail("could not read the stream and group names from src/tasks/redis/");

  const all = [];
  const referencedSecrets = new Map();  // name -> Set(keys)
  // Across renders: the claims overlays create (a Job may fill one another overlay creates), the
  // images the workers run and the images of the models pull containers (which must match).
  const claims = new Map();
  for (const file of files) for (const o of readYaml(file)) if (o.kind === "PersistentVolumeClaim") claims.set(o.metadata.name, o);
  const workerImages = new Set();
  const pullImages = [];
  for (const file of files) {
    const name = path.basename(file, ".yaml");
    const objs = readYaml(file);
    console.log(`-- ${name}: ${objs.length} objects (${[...new Set(objs.map((o) => o.kind))].join(", ")})`);
    const byKind = (k) => objs.filter((o) => o.kind === k);
    const deployments = byKind("Deployment");
    const configMaps = new Map(byKind("ConfigMap").map((c) => [c.metadata.name, c]));
    const services = byKind("Service");

    // 1. Schemas.
    let schemaErrors = 0;
    for (const o of objs) {
      all.push({ obj: o, where: name });
      const err = schemaValidate(o);
      if (err) { schemaErrors++; fail(`${name}: ${id(o)} schema: ${err}`); }
    }
    if (!schemaErrors) ok(`${name}: every object valid against its schema`);

    // 2. No secret values: Secrets are referenced by name, never rendered.
    check(!byKind("Secret").length, `${name}: no Secret objects (secrets are referenced by name only)`,
          byKind("Secret").map(id).join(", "));

    // 3. Workloads.
    for (const d of deployments) {
      const spec = d.spec.template.spec;
      const w = `${name}: ${id(d)}`;
      const role = (podLabels(d)["app.kubernetes.io/component"]) || "?";
      check(matches(d.spec.selector.matchLabels, podLabels(d)), `${w} selector matches its pod labels`);
      const psc = spec.securityContext || {};
      check(psc.runAsNonRoot === true && Number.isInteger(psc.runAsUser) && psc.runAsUser > 0,
            `${w} runs as a non-root user`);
      check(spec.enableServiceLinks === false, `${w} has no service-link variables (they are FACEFUSE_*)`);
      for (const c of spec.containers) {
        const cw = `${w} container ${c.name}`;
        checkContainerBasics(cw, c);
        check(Array.isArray(c.args) && c.args[0] === role, `${cw}: subcommand '${role}' picks the role`,
              JSON.stringify(c.args));
        const portNames = new Set((c.ports || []).map((p) => p.name));
        const probe = (p, wantPath) => p && p.httpGet && p.httpGet.path === wantPath &&
          (typeof p.httpGet.port === "number" || portNames.has(p.httpGet.port));
        check(probe(c.livenessProbe, "/healthz"), `${cw}: liveness probe on /healthz`);
        check(probe(c.readinessProbe, "/readyz"), `${cw}: readiness probe on /readyz`);
        const sp = c.startupProbe;
        const startupBudget = sp ? (sp.periodSeconds || 10) * (sp.failureThreshold || 3) : 0;
        check(probe(sp, "/healthz") && startupBudget >= 300,
              `${cw}: startup probe allows ${startupBudget} s (>= 300 s) of model loading`);
        // Grace period: covers the drain, so SIGTERM's hand-back completes before SIGKILL.
        const grace = spec.terminationGracePeriodSeconds;
        const drain = durationSeconds(envValue(c, "FACEFUSE_DRAIN_TIMEOUT", configMaps) || "20s");
        const maxWait = Number(envValue(c, "FACEFUSE_MAX_WAIT", configMaps) || 30);
        const preStop = ((((c.lifecycle || {}).preStop || {}).sleep) || {}).seconds || 0;
        const inFlight = role === "gateway" ? Math.max(drain, maxWait) : drain;
        check(Number.isInteger(grace) && grace >= preStop + inFlight + 5,
              `${cw}: terminationGracePeriodSeconds ${grace} >= preStop ${preStop} + ` +
              `${role === "gateway" ? "max(drain, max-wait)" : "drain"} ${inFlight} + 5 s margin`);
        if (prefersSpot(spec)) {
          // GKE gives non-system pods 15 s of a spot VM's 30 s notice; Azure 30 s.
          check(grace <= 25, `${cw}: on spot nodes, grace ${grace} s fits the reclaim notice (<= 25 s)`);
          check(role === "worker", `${cw}: only workers run on spot nodes`);
        }
        const gpu = ((c.resources || {}).limits || {})["nvidia.com/gpu"];
        if (gpu !== undefined) {
          check((spec.tolerations || []).some((t) => t.key === "nvidia.com/gpu"),
                `${cw}: requests a GPU and tolerates the nvidia.com/gpu taint`);
        }
        for (const e of c.env || []) {
          const ref = e.valueFrom && e.valueFrom.secretKeyRef;
          if (ref) {
            if (!referencedSecrets.has(ref.name)) referencedSecrets.set(ref.name, new Set());
            referencedSecrets.get(ref.name).add(ref.key);
          }
        }
      }
      for (const v of spec.volumes || []) {
        if (v.secret) {
          if (!referencedSecrets.has(v.secret.secretName)) referencedSecrets.set(v.secret.secretName, new Set());
        }
      }
      // Init containers (components/models-s3): the same container rules, and the image of the
      // pod's own container - the model manifest's format and checks are the binary's.
      for (const c of spec.initContainers || []) {
        const cw = `${w} init container ${c.name}`;
        checkContainerBasics(cw, c);
        const images = [...new Set(spec.containers.map((x) => x.image))];
        check(images.length === 1 && c.image === images[0], `${cw}: runs the pod's image (${c.image})`,
              `the containers run ${images.join(", ")}`);
        if (isModelsPull(c)) pullImages.push({ where: cw, image: c.image });
      }
      addSecretRefs(referencedSecrets, spec.initContainers);
      if (role === "worker") for (const c of spec.containers) workerImages.add(c.image);
      checkPodVolumes(w, spec, configMaps, claims, true);
    }
    // Jobs (overlays/models-pvc/fill): pod and container security as the Deployments'.
    for (const j of byKind("Job")) {
      const spec = j.spec.template.spec;
      const w = `${name}: ${id(j)}`;
      const psc = spec.securityContext || {};
      check(psc.runAsNonRoot === true && Number.isInteger(psc.runAsUser) && psc.runAsUser > 0 &&
            (psc.seccompProfile || {}).type === "RuntimeDefault", `${w} runs as a non-root user with the RuntimeDefault seccomp profile`);
      check(spec.enableServiceLinks === false, `${w} has no service-link variables (they are FACEFUSE_*)`);
      check(spec.automountServiceAccountToken === false, `${w} mounts no service account token`);
      for (const c of [...(spec.initContainers || []), ...spec.containers]) {
        const cw = `${w} container ${c.name}`;
        checkContainerBasics(cw, c);
        if (isModelsPull(c)) pullImages.push({ where: cw, image: c.image });
      }
      addSecretRefs(referencedSecrets, [...(spec.initContainers || []), ...spec.containers]);
      checkPodVolumes(w, spec, configMaps, claims, false);
    }
    for (const pvc of byKind("PersistentVolumeClaim")) {
      check(!!(((pvc.spec.resources || {}).requests || {}).storage), `${name}: ${id(pvc)} requests a size`);
    }
    if (deployments.some((d) => prefersSpot(d.spec.template.spec))) {
      for (const d of deployments.filter((x) => podLabels(x)["app.kubernetes.io/component"] === "gateway")) {
        check(excludesSpot(d.spec.template.spec),
              `${name}: ${id(d)} is kept off spot nodes (required node affinity NotIn every spot label)`);
      }
    }

    // 4. References between objects resolve.
    const selects = (sel) => deployments.some((d) => matches(sel, podLabels(d)));
    for (const s of services.filter((x) => x.spec.selector)) {
      const backends = deployments.filter((d) => matches(s.spec.selector, podLabels(d)));
      check(backends.length > 0, `${name}: ${id(s)} selects pods`);
      for (const p of s.spec.ports) {
        if (typeof p.targetPort !== "string") continue;
        const missing = backends.filter((d) => !d.spec.template.spec.containers
          .some((c) => (c.ports || []).some((cp) => cp.name === p.targetPort)));
        check(!missing.length, `${name}: ${id(s)} port ${p.name} -> named port '${p.targetPort}' on every pod`,
              missing.map(id).join(", "));
      }
    }
    for (const np of byKind("NetworkPolicy")) {
      check(selects(np.spec.podSelector.matchLabels), `${name}: ${id(np)} selects pods`);
    }
    for (const pdb of byKind("PodDisruptionBudget")) {
      check(selects(pdb.spec.selector.matchLabels), `${name}: ${id(pdb)} selects pods`);
    }
    const deploymentNames = new Set(deployments.map((d) => d.metadata.name));
    for (const h of byKind("HorizontalPodAutoscaler")) {
      check(deploymentNames.has(h.spec.scaleTargetRef.name), `${name}: ${id(h)} targets an existing Deployment`);
      check(h.spec.minReplicas >= 3, `${name}: ${id(h)} minReplicas ${h.spec.minReplicas} >= 3`);
      check(!!(h.spec.behavior && h.spec.behavior.scaleUp && h.spec.behavior.scaleDown),
            `${name}: ${id(h)} has scale-up and scale-down behavior`);
      for (const m of h.spec.metrics || []) {
        if (m.type === "Object") {
          const o = m.object.describedObject;
          check(objs.some((x) => x.kind === o.kind && x.metadata.name === o.name),
                `${name}: ${id(h)} Object metric describes an existing ${o.kind}/${o.name}`);
        }
      }
      const target = deployments.find((d) => d.metadata.name === h.spec.scaleTargetRef.name);
      check(target && target.spec.replicas === undefined,
            `${name}: ${id(h)}: the Deployment leaves replicas to the autoscaler`);
    }
    for (const so of byKind("ScaledObject")) {
      const target = deployments.find((d) => d.metadata.name === so.spec.scaleTargetRef.name);
      check(!!target, `${name}: ${id(so)} targets an existing Deployment`);
      check(target && target.spec.replicas === undefined,
            `${name}: ${id(so)}: the Deployment leaves replicas to the autoscaler`);
      const redis = so.spec.triggers.filter((t) => t.type === "redis-streams");
      for (const t of redis) {
        const md = t.metadata;
        check(queue && queue.streams.includes(md.stream) && md.consumerGroup === queue.group,
              `${name}: ${id(so)} trigger ${t.name}: stream ${md.stream} / group ${md.consumerGroup} ` +
              "are facefuse's (src/tasks/redis)", queue && `expected one of ${queue.streams.join(", ")} / ${queue.group}`);
        const auth = t.authenticationRef && objs.find((x) => x.kind === "TriggerAuthentication" &&
                                                         x.metadata.name === t.authenticationRef.name);
        check(!!auth, `${name}: ${id(so)} trigger ${t.name} authenticates with an existing TriggerAuthentication`);
      }
      if (redis.length) {
        const lagged = new Set(redis.filter((t) => t.metadata.lagCount !== undefined).map((t) => t.metadata.stream));
        check(queue && queue.streams.every((s) => lagged.has(s)),
              `${name}: ${id(so)} has a lag trigger (can wake from zero) on every priority stream`);
      }
    }
    for (const ta of byKind("TriggerAuthentication")) {
      for (const r of ta.spec.secretTargetRef || []) {
        if (!referencedSecrets.has(r.name)) referencedSecrets.set(r.name, new Set());
        referencedSecrets.get(r.name).add(r.key);
      }
    }
    for (const sm of byKind("ServiceMonitor")) {
      const svc = services.find((s) => matches(sm.spec.selector.matchLabels, s.metadata.labels));
      check(!!svc, `${name}: ${id(sm)} selects a Service`);
      for (const ep of sm.spec.endpoints) {
        check(svc && svc.spec.ports.some((p) => p.name === ep.port),
              `${name}: ${id(sm)} endpoint port '${ep.port}' exists on ${svc ? id(svc) : "?"}`);
        check((ep.relabelings || []).some((r) => r.targetLabel === "component"),
              `${name}: ${id(sm)} sets the component label the rules select on`);
      }
    }
    for (const pr of byKind("PrometheusRule")) {
      const rulesDir = path.join(ROOT, "deploy", "prometheus", "rules");
      const expected = prometheusRuleGroups(fs.readdirSync(rulesDir).filter((f) => f.endsWith(".yml"))
        .sort().map((f) => path.join(rulesDir, f)));
      check(canonical(pr.spec.groups) === canonical(expected),
            `${name}: ${id(pr)} holds exactly the groups of deploy/prometheus/rules/*.yml`,
            "regenerate: node tests/deploy/check_deploy.cjs prometheusrule deploy/prometheus/rules/*.yml " +
            "> deploy/k8s/components/monitoring/prometheusrule.yaml");
    }
    // 5. Prometheus Adapter configuration.
    for (const cm of byKind("ConfigMap").filter((c) => c.data && c.data["config.yaml"] &&
                                                       /prometheus-adapter/.test(c.metadata.name))) {
      const cfg = parseYamlDocs(cm.data["config.yaml"], `${id(cm)} config.yaml`)[0];
      const valid = validateAdapter(cfg);
      check(valid, `${name}: ${id(cm)} config.yaml valid against prometheus-adapter-config.schema.json`,
            ajv.errorsText(validateAdapter.errors));
    }
  }

  // Whatever fills a model directory runs the workers' image (the fill Job is a kustomization of
  // its own, with its own `images` pin).
  for (const p of pullImages) {
    check(workerImages.has(p.image), `${p.where}: models pull runs the workers' image (${p.image})`,
          `workers run ${[...workerImages].join(", ") || "nothing"}`);
  }

  // 6. Strict fields, all objects of all renders at once (one compile).
  const strict = strictFields(all);
  if (!strict.size) ok(`every object has only known fields (TypeScript types of the same schemas)`);
  for (const [where, msgs] of strict) fail(`${where}: type check (unknown, misplaced or mistyped field): ${msgs.join(" | ")}`);

  // 7. Every Secret the manifests reference, with its keys, is documented.
  const docPath = path.join(ROOT, "docs", "deployment.md");
  const doc = fs.existsSync(docPath) ? fs.readFileSync(docPath, "utf8") : "";
  for (const [secret, keys] of referencedSecrets) {
    const missing = [secret, ...keys].filter((s) => !doc.includes(s));
    check(!missing.length, `Secret ${secret} (keys: ${[...keys].join(", ") || "mounted"}) is documented in docs/deployment.md`,
          `not mentioned: ${missing.join(", ")}`);
  }
}

// ---------------------------------------------------------------------------------------------
function prometheusRuleGroups(ruleFiles) {
  const groups = [];
  for (const f of ruleFiles) for (const d of readYaml(f)) groups.push(...(d.groups || []));
  return groups;
}
function cmdPrometheusRule(ruleFiles) {
  const groups = prometheusRuleGroups(ruleFiles);
  const obj = {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: {
      name: "facefuse",
      labels: { "app.kubernetes.io/name": "facefuse", release: "kube-prometheus-stack" },
    },
    spec: { groups },
  };
  const header = [
    "# GENERATED from deploy/prometheus/rules/*.yml - do not edit; edit those files, then run",
    "#   node tests/deploy/check_deploy.cjs prometheusrule deploy/prometheus/rules/*.yml \\",
    "#     > deploy/k8s/components/monitoring/prometheusrule.yaml",
    "# (tests/deploy/deploy_test.sh fails while the two differ). The `release` label must match",
    "# your Prometheus' ruleSelector (kube-prometheus-stack: its release name).",
  ].join("\n");
  process.stdout.write(header + "\n" + YAML.stringify(obj, { lineWidth: 0 }));
}

// ---------------------------------------------------------------------------------------------
// Metric names. A name is "exported" if the binary's /metrics has a # TYPE line for it (so a
// counter with no sample yet still counts), with _bucket/_sum/_count for histograms.
function exportedNames(text) {
  const names = new Set();
  for (const m of text.matchAll(/^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)$/gm)) {
    names.add(m[1]);
    if (m[2] === "histogram") for (const s of ["_bucket", "_sum", "_count"]) names.add(m[1] + s);
    if (m[2] === "summary") for (const s of ["_sum", "_count"]) names.add(m[1] + s);
  }
  return names;
}
const METRIC_RE = /\bfacefuse(?:_[a-z0-9_]+|:[a-zA-Z0-9_:]+)/g;
function cmdMetrics(opts) {
  const exported = exportedNames(fs.readFileSync(opts.exported, "utf8"));
  check(exported.size > 10, `the binary exports ${exported.size} facefuse series names (with histogram suffixes)`);
  const expected = new Set(fs.readFileSync(opts.expected, "utf8").split("\n")
    .map((l) => l.replace(/#.*/, "").trim()).filter(Boolean));

  const refs = new Map();  // name -> Set(where)
  const add = (text, where) => {
    for (const m of String(text).matchAll(METRIC_RE)) {
      if (!refs.has(m[0])) refs.set(m[0], new Set());
      refs.get(m[0]).add(where);
    }
  };
  const recorded = new Set();
  for (const f of opts.rules) {
    for (const d of readYaml(f)) for (const g of d.groups || []) for (const r of g.rules || []) {
      if (r.record) recorded.add(r.record);
      add(r.expr, `rule ${r.record || r.alert} (${path.basename(f)})`);
    }
  }
  for (const f of opts.tests) {
    for (const d of readYaml(f)) for (const t of d.tests || []) {
      for (const s of t.input_series || []) add(s.series.replace(/\{.*$/, ""), `promtool test '${t.name}'`);
      for (const e of t.promql_expr_test || []) add(e.expr, `promtool test '${t.name}'`);
    }
  }
  const dash = JSON.parse(fs.readFileSync(opts.dashboard, "utf8"));
  const walkPanels = (ps) => { for (const p of ps || []) { walkPanels(p.panels);
    for (const t of p.targets || []) add(t.expr, `dashboard panel '${p.title}'`); } };
  walkPanels(dash.panels);
  for (const v of (dash.templating || {}).list || []) {
    add(typeof v.query === "string" ? v.query : (v.query || {}).query || "", `dashboard variable ${v.name}`);
  }
  const adapterOutputs = new Set();
  const hpaMetrics = [];
  for (const f of opts.rendered) {
    for (const o of readYaml(f)) {
      const where = `${path.basename(f, ".yaml")}: ${id(o)}`;
      if (o.kind === "ConfigMap" && o.data && o.data["config.yaml"] && /prometheus-adapter/.test(o.metadata.name)) {
        const cfg = parseYamlDocs(o.data["config.yaml"], where)[0] || {};
        for (const r of [...(cfg.rules || []), ...(cfg.externalRules || [])]) {
          add(r.seriesQuery, `${where} adapter rule`);
          add(r.metricsQuery, `${where} adapter rule`);
          if (r.name && r.name.as) adapterOutputs.add(r.name.as);
        }
      }
      if (o.kind === "HorizontalPodAutoscaler") {
        for (const m of o.spec.metrics || []) {
          const spec = m[{ Pods: "pods", Object: "object", External: "external" }[m.type]];
          if (spec) hpaMetrics.push({ name: spec.metric.name, where });
        }
      }
      if (o.kind === "ScaledObject") {
        for (const t of o.spec.triggers || []) if (t.type === "prometheus") add(t.metadata.query, `${where} trigger ${t.name}`);
      }
    }
  }
  // HPAs name the adapter's outputs, which are API names, not series: they must be produced by
  // an adapter rule (whose own series are checked below).
  for (const h of hpaMetrics) {
    check(adapterOutputs.has(h.name), `${h.where} metric ${h.name} is produced by a Prometheus Adapter rule`);
  }
  check(hpaMetrics.length > 0, "the HPAs' metrics were found");

  const names = [...refs.keys()].sort();
  const missing = [];
  const pending = [];
  for (const n of names) {
    const where = [...refs.get(n)];
    if (n.includes(":")) {
      check(recorded.has(n), `${n} is produced by a recording rule`, `used by ${where.join("; ")}`);
    } else if (exported.has(n)) {
      ok(`${n} exported by the binary (${where.length} uses)`);
    } else if (expected.has(n)) {
      pending.push(n);
      note(`${n} NOT exported yet; listed in deploy/prometheus/expected-metrics.txt (${where.length} uses)`);
    } else {
      missing.push(n);
      fail(`${n} is neither exported by the binary nor listed in deploy/prometheus/expected-metrics.txt; used by ${where.join("; ")}`);
    }
  }
  for (const n of expected) {
    if (!refs.has(n)) fail(`${n} is listed in expected-metrics.txt but nothing uses it: remove it`);
    else if (exported.has(n)) note(`${n} is exported now: remove it from deploy/prometheus/expected-metrics.txt`);
  }
  console.log(`  metrics: ${names.length} referenced, ${names.length - missing.length - pending.length} resolved, ` +
              `${pending.length} pending (expected-metrics.txt), ${missing.length} unknown`);
}

// ---------------------------------------------------------------------------------------------
function cmdDashboard(file) {
  let dash;
  try { dash = JSON.parse(fs.readFileSync(file, "utf8")); } catch (e) { fail(`${file}: not JSON: ${e.message}`); return; }
  check(typeof dash.uid === "string" && dash.uid.length > 0 && dash.uid.length <= 40, "dashboard has a uid (<= 40 chars)");
  check(typeof dash.title === "string" && Number.isInteger(dash.schemaVersion), "dashboard has a title and schemaVersion");
  const vars = ((dash.templating || {}).list || []).map((v) => v.name);
  check(vars.includes("datasource"), "dashboard has a datasource variable (importable into any Grafana)");
  const panels = [];
  const walk = (ps) => { for (const p of ps || []) { panels.push(p); walk(p.panels); } };
  walk(dash.panels);
  const ids = panels.map((p) => p.id);
  check(new Set(ids).size === ids.length, "panel ids are unique");
  const data = panels.filter((p) => p.type !== "row");
  const bad = data.filter((p) => !(p.targets || []).length || p.targets.some((t) => !t.expr || !t.refId) ||
                                !p.gridPos || !p.datasource);
  check(!bad.length, `${data.length} panels each have a datasource, a position and queries`, bad.map((p) => p.title).join(", "));
  const exprs = data.flatMap((p) => p.targets.map((t) => t.expr)).join("\n");
  const want = {
    "request rate (QPS)": /rate\(facefuse_http_requests_total/,
    "latency quantiles": /histogram_quantile\(0\.\d+,.*facefuse_http_request_duration_seconds_bucket/,
    "queue depth": /facefuse_queue_depth/,
    "queue wait quantiles": /histogram_quantile\(0\.\d+,.*facefuse_task_queue_wait_seconds_bucket/,
    "worker utilisation": /facefuse_workers_busy/,
    "retries": /facefuse_task_retries_total/,
    "errors by code": /sum by \(code\)/,
  };
  for (const [what, re] of Object.entries(want)) check(re.test(exprs), `dashboard shows ${what}`);
}

function cmdScrapeConfig(file) {
  const cfg = readYaml(file)[0] || {};
  const job = (cfg.scrape_configs || []).find((j) => j.kubernetes_sd_configs);
  if (!check(!!job, `${path.basename(file)}: has a kubernetes_sd job`)) return;
  const targets = new Set((job.relabel_configs || []).map((r) => r.target_label).filter(Boolean));
  for (const l of ["namespace", "pod", "service", "component"]) {
    check(targets.has(l), `${path.basename(file)}: job ${job.job_name} sets the '${l}' label`);
  }
  check((job.relabel_configs || []).some((r) => r.action === "keep" && /facefuse-metrics/.test(r.regex || "")),
        `${path.basename(file)}: job ${job.job_name} keeps only the facefuse-metrics endpoints`);
}

// ---------------------------------------------------------------------------------------------
function main(argv) {
  const [cmd, ...rest] = argv;
  if (cmd === "validate") cmdValidate(rest);
  else if (cmd === "prometheusrule") { cmdPrometheusRule(rest); return; }
  else if (cmd === "dashboard") cmdDashboard(rest[0]);
  else if (cmd === "scrape-config") cmdScrapeConfig(rest[0]);
  else if (cmd === "metrics") {
    const opts = { rendered: [], rules: [], tests: [] };
    let key = null;
    for (const a of rest) {
      if (a.startsWith("--")) { key = a.slice(2); continue; }
      if (Array.isArray(opts[key])) opts[key].push(a); else opts[key] = a;
    }
    if (!opts.exported || !opts.expected || !opts.dashboard) die("metrics: --exported, --expected and --dashboard are required");
    cmdMetrics(opts);
  } else {
    die("usage: check_deploy.cjs validate|metrics|dashboard|scrape-config|prometheusrule ...");
  }
  if (failures) { console.log(`check_deploy ${cmd}: ${failures} check(s) failed`); process.exit(1); }
}
main(process.argv.slice(2));
