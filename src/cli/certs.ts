// Certificates for the peer port, made with the system's `openssl` (present
// wherever Faros runs: Debian, the container image), so no crypto code of our
// own and no extra dependency: a CA, and per instance a P-256 key and a
// certificate whose CN is the instance's peer address (host:port) and whose
// SAN is its host, usable as TLS server and client (mutual TLS).
//   DIR/ca.crt, DIR/ca.key             the cluster CA (reused if present)
//   DIR/<host>_<port>/{ca.crt,tls.crt,tls.key}   one per instance (cert-manager layout)
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { parseAddress } from '../proxy/peer-tls.js';

const run = promisify(execFile);

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args, { timeout: 30_000 });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT')
      throw new Error('the openssl command is not installed; install it (Debian: apt-get install openssl) or give existing certificates with --peer-tls-dir');
    throw new Error(`openssl ${args[0]} failed: ${err.stderr?.trim() || err.message}`);
  }
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** The CA in dir (created when absent); `cn` names it. */
export async function ensureCa(dir: string, cn = 'faros-cluster-ca'): Promise<{ crt: string; key: string }> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const crt = join(dir, 'ca.crt'),
    key = join(dir, 'ca.key');
  if (!existsSync(crt) || !existsSync(key)) {
    await openssl([
      'req',
      '-x509',
      ...EC,
      '-keyout',
      key,
      '-out',
      crt,
      '-days',
      '3650',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
  }
  return { crt, key };
}

/** Directory name of an instance's certificate. */
export const instanceDirName = (address: string): string =>
  address
    .replace(/[[\]]/g, '')
    .replace(/:(\d+)$/, '_$1')
    .replace(/:/g, '-');

/**
 * A certificate for `cn` (an instance's peer address host:port, or any name
 * for a shared certificate) signed by the CA in caDir, written with ca.crt
 * into outDir. `hosts`: SAN entries (default: the address's host).
 */
export async function issueCertificate(caDir: string, cn: string, outDir: string, hosts?: string[]): Promise<{ dir: string }> {
  const ca = await ensureCa(caDir);
  const address = parseAddress(cn);
  const sans = hosts ?? (address ? [address.slice(0, address.lastIndexOf(':')).replace(/^\[|\]$/g, '')] : []);
  mkdirSync(outDir, { recursive: true, mode: 0o700 });
  const key = join(outDir, 'tls.key'),
    csr = join(outDir, 'tls.csr'),
    crt = join(outDir, 'tls.crt'),
    ext = join(outDir, 'ext.cnf');
  const san = sans.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  writeFileSync(
    ext,
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      ...(san ? [`subjectAltName=${san}`] : []),
    ].join('\n'),
  );
  try {
    await openssl(['req', ...EC, '-keyout', key, '-out', csr, '-subj', `/CN=${cn}`]);
    await openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.crt,
      '-CAkey',
      ca.key,
      '-set_serial',
      `0x${randomBytes(16).toString('hex')}`,
      '-days',
      '825',
      '-out',
      crt,
      '-extfile',
      ext,
    ]);
  } finally {
    rmSync(csr, { force: true });
    rmSync(ext, { force: true });
  }
  writeFileSync(join(outDir, 'ca.crt'), readFileSync(ca.crt));
  return { dir: outDir };
}

/**
 * `faros certs`: the CA in outDir and one certificate directory per name: an
 * instance's peer address (host:port, a per-instance identity), or a plain
 * name (e.g. faros-peer) for one certificate shared by every instance, as a
 * Kubernetes Secret mounted in every pod is.
 */
export async function makeClusterCerts(outDir: string, names: readonly string[]): Promise<Map<string, string>> {
  const dirs = new Map<string, string>();
  for (const a of names) {
    const shared = /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/.test(a);
    if (parseAddress(a) === undefined && !shared)
      throw new Error(
        `--name ${JSON.stringify(a)} is neither host:port (an instance's peer address, e.g. 10.0.0.5:51051) nor a plain name for a shared certificate (e.g. faros-peer)`,
      );
    dirs.set(a, (await issueCertificate(outDir, a, join(outDir, instanceDirName(a)), shared ? [a] : undefined)).dir);
  }
  return dirs;
}
