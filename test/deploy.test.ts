// The deployment files hold up: the Kubernetes manifests render with
// `kubectl kustomize` (skipped, saying so, without kubectl) and every object
// passes the API schema of its kind (kubernetes-models); the StatefulSet
// gives pods identities that survive a restart, wires the peer port and both
// Secrets, and its probes keep pods in the client Service while they load;
// compose publishes on 127.0.0.1 only and holds no literal secret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const K8S = join(ROOT, 'cluster/k8s');

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  [k: string]: unknown;
};

const docs = (text: string): Obj[] =>
  parseAllDocuments(text)
    .map((d) => {
      assert.deepEqual(d.errors, [], `YAML errors: ${d.errors.join('; ')}`);
      return d.toJS() as Obj | null;
    })
    .filter((o): o is Obj => o !== null);

/** The schema (model class) of each kind the manifests use; an unknown kind fails the test. */
async function model(o: Obj): Promise<new (x: unknown) => { validate(): void }> {
  const m: Record<string, Record<string, unknown>> = {
    v1: await import('kubernetes-models/v1'),
    'apps/v1': await import('kubernetes-models/apps/v1'),
    'policy/v1': await import('kubernetes-models/policy/v1'),
    'networking.k8s.io/v1': await import('kubernetes-models/networking.k8s.io/v1'),
    'monitoring.coreos.com/v1': await import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1'),
  };
  const ctor = m[o.apiVersion]?.[o.kind];
  assert.ok(ctor, `no schema for ${o.apiVersion} ${o.kind} (${o.metadata?.name}): add its model to this test`);
  return ctor as new (
    x: unknown,
  ) => { validate(): void };
}

async function validateAll(objs: Obj[]): Promise<void> {
  for (const o of objs) {
    const M = await model(o);
    assert.doesNotThrow(() => new M(o).validate(), `${o.kind} ${o.metadata.name} does not match the ${o.apiVersion} schema`);
  }
}

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
const haveKubectl = kubectl.status === 0;

function render(): Obj[] {
  const r = spawnSync('kubectl', ['kustomize', K8S], { encoding: 'utf8' });
  assert.equal(r.status, 0, `kubectl kustomize cluster/k8s: ${r.stderr}`);
  return docs(r.stdout);
}

/** What the StatefulSet's and Services' wiring must satisfy, on rendered or raw objects. */
function checkWiring(objs: Obj[]): void {
  const sts = objs.find((o) => o.kind === 'StatefulSet')!;
  const svc = (name: string) => objs.find((o) => o.kind === 'Service' && o.metadata.name === name)!;
  const spec = sts.spec as {
    serviceName: string;
    template: { spec: { containers: Container[]; volumes: { name: string; secret?: { secretName: string } }[] } };
  };
  type Container = {
    name: string;
    env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
    ports: { name: string; containerPort: number }[];
    volumeMounts: { name: string; mountPath: string }[];
    startupProbe: { httpGet: { path: string; port: string } };
    readinessProbe: { httpGet: { path: string; port: string } };
  };
  const c = spec.template.spec.containers.find((x) => x.name === 'faros')!;
  const env = new Map(c.env.map((e) => [e.name, e]));
  // $(VAR) is expanded only from variables defined earlier in the list.
  c.env.forEach((e, i) => {
    for (const [, v] of (e.value ?? '').matchAll(/\$\(([A-Z_]+)\)/g))
      assert.ok(
        c.env.slice(0, i).some((x) => x.name === v),
        `${e.name} uses $(${v}), which is not defined before it`,
      );
  });
  // Identity: the pod's stable DNS name through the governing headless Service, never its IP.
  assert.equal(env.get('POD_NAME')?.valueFrom?.fieldRef?.fieldPath, 'metadata.name');
  assert.equal(env.get('FAROS_ADVERTISE')?.value, `$(POD_NAME).${spec.serviceName}.$(POD_NAMESPACE).svc.cluster.local:51051`);
  assert.ok(!c.env.some((e) => /POD_IP|status\.podIP/.test(`${e.value} ${e.valueFrom?.fieldRef?.fieldPath}`)), 'no identity from the pod IP');
  // Discovery: the SRV records of the headless Service's peer port name those same pod names.
  const headless = svc(spec.serviceName);
  const hs = headless.spec as { clusterIP: string; publishNotReadyAddresses: boolean; ports: { name: string; port: number }[] };
  assert.equal(hs.clusterIP, 'None');
  assert.equal(hs.publishNotReadyAddresses, true, 'loading pods must be found by their peers');
  const peer = c.ports.find((p) => p.name === 'peer')!;
  assert.equal(peer.containerPort, 51051);
  assert.equal(env.get('FAROS_PEER_PORT')?.value, String(peer.containerPort));
  assert.deepEqual(
    hs.ports.map((p) => [p.name, p.port]),
    [['peer', 51051]],
  );
  assert.equal(env.get('FAROS_DISCOVERY_DNS')?.value, `_peer._tcp.${spec.serviceName}.$(POD_NAMESPACE).svc.cluster.local`);
  // The client Service never carries the peer port.
  assert.ok(!(svc('faros').spec as { ports: { port: number }[] }).ports.some((p) => p.port === 51051));
  // Secrets: tokens and peer mTLS mounted where the environment points.
  const mountOf = (secret: string): string => {
    const vol = spec.template.spec.volumes.find((v) => v.secret?.secretName === secret);
    assert.ok(vol, `Secret ${secret} is not mounted`);
    return c.volumeMounts.find((m) => m.name === vol.name)!.mountPath;
  };
  assert.equal(env.get('FAROS_TOKENS')?.value, `${mountOf('faros-tokens')}/tokens`);
  assert.equal(env.get('FAROS_PEER_TLS_DIR')?.value, mountOf('faros-peer-tls'));
  // Readiness: strict at start-up (rollouts wait for maps and drivers), then "serving or proxying".
  assert.deepEqual(c.startupProbe.httpGet, { path: '/readyz', port: 'http' });
  assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz?allow=proxy', port: 'http' });
  // The peer port only from Faros pods.
  const np = objs.find((o) => o.kind === 'NetworkPolicy')!.spec as { ingress: { from?: unknown[]; ports: { port: number }[] }[] };
  for (const rule of np.ingress)
    if (rule.ports.some((p) => p.port === 51051)) assert.deepEqual(rule.from, [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'faros' } } }]);
}

test('cluster/k8s: every manifest file passes the schema of its kind, and the StatefulSet is wired as documented', async () => {
  const files = readdirSync(K8S).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml' && f !== 'cert-manager.yaml');
  const objs = files.flatMap((f) => docs(readFileSync(join(K8S, f), 'utf8')));
  assert.ok(objs.length >= 8, `${objs.length} objects`);
  await validateAll(objs);
  checkWiring(objs);
  // Everything listed in the kustomization exists (and nothing but cert-manager.yaml is left out).
  const k = parse(readFileSync(join(K8S, 'kustomization.yaml'), 'utf8')) as { resources: string[]; namespace: string };
  assert.deepEqual([...k.resources].sort(), [...files].sort());
});

test('kubectl kustomize cluster/k8s renders; every object valid and in the namespace, the ServiceMonitor included', {
  skip: haveKubectl ? false : 'kubectl not installed: the rendered manifests are not checked (the files themselves are, above)',
}, async () => {
  const objs = render();
  await validateAll(objs);
  checkWiring(objs);
  const ns = objs.find((o) => o.kind === 'Namespace')!.metadata.name;
  for (const o of objs) if (o.kind !== 'Namespace') assert.equal(o.metadata.namespace, ns, `${o.kind} ${o.metadata.name}`);
  const sm = objs.find((o) => o.kind === 'ServiceMonitor');
  assert.ok(sm, 'the ServiceMonitor is in the kustomization');
  // It must select the client Service (the headless one has no http port).
  const sel = (sm.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
  const matched = objs.filter((o) => o.kind === 'Service' && Object.entries(sel).every(([k, v]) => o.metadata.labels?.[k] === v));
  assert.deepEqual(
    matched.map((o) => o.metadata.name),
    ['faros'],
  );
});

test('cluster/docker-compose.yml: host ports on 127.0.0.1 only, the peer port unpublished, no literal secret', () => {
  const text = readFileSync(join(ROOT, 'cluster/docker-compose.yml'), 'utf8');
  const c = parse(text, { merge: true }) as { services: Record<string, { ports?: string[]; environment?: Record<string, string> }> };
  let published = 0;
  for (const [name, s] of Object.entries(c.services)) {
    for (const p of s.ports ?? []) {
      published++;
      assert.match(p, /^127\.0\.0\.1:\d+:\d+$/, `${name} publishes ${p} beyond the host's loopback`);
      assert.ok(!p.endsWith(':51051'), `${name} publishes the peer port`);
    }
    for (const [k, v] of Object.entries(s.environment ?? {}))
      if (/PASSWORD|SECRET|TOKEN(?!S$)|_KEY$/.test(k))
        // From the environment, and without a fallback value (${VAR:?message} fails `up` when unset).
        assert.match(String(v), /^\$\{[A-Z_]+:\?[^}]*\}$/, `${name}: ${k} is a literal or has a default`);
  }
  assert.ok(published >= 8, `${published} published ports`);
  assert.match(c.services.grafana!.environment!.GF_SECURITY_ADMIN_PASSWORD!, /^\$\{GRAFANA_ADMIN_PASSWORD:\?/);
});
