// Client tokens: a file of SHA-256 hashes with scopes, never the tokens
// themselves. A token is 32 random bytes, so a fast hash is as safe as a slow
// one (nothing to brute-force) and costs ~1 µs per call.
//
//   # NAME  SCOPES        SHA-256 of the token (hex)
//   dispatch query        9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//   ingest   update,query 60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { FarosError } from '../errors.js';
import { clip } from '../quote.js';

export const SCOPES = ['update', 'query'] as const;
export type Scope = (typeof SCOPES)[number];

export interface TokenEntry {
  readonly name: string;
  readonly scopes: ReadonlySet<Scope>;
  /** SHA-256 of the token (hex): its key in the file. */
  readonly hash: string;
}

const LINE = /^(\S+)\s+(\S+)\s+([0-9a-f]{64})$/;
const PREFIX = 'faros_';

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/** Parse a tokens file; throws Error naming the line that is wrong. */
export function parseTokens(text: string, where: string): Map<string, TokenEntry> {
  const out = new Map<string, TokenEntry>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = LINE.exec(line);
    if (!m) throw new Error(`${where}:${i + 1}: expected "NAME SCOPES SHA256HEX" (scopes ${SCOPES.join(',')}), e.g. "dispatch query ${'0'.repeat(64)}"`);
    const scopes = new Set<Scope>();
    for (const s of m[2]!.split(',')) {
      if (!(SCOPES as readonly string[]).includes(s)) throw new Error(`${where}:${i + 1}: unknown scope "${s}"; scopes are ${SCOPES.join(', ')}`);
      scopes.add(s as Scope);
    }
    if (out.has(m[3]!)) throw new Error(`${where}:${i + 1}: the same token hash is listed twice`);
    out.set(m[3]!, Object.freeze({ name: m[1]!, scopes, hash: m[3]! }));
  });
  return out;
}

/** The tokens a server accepts; `reload()` swaps them whole (SIGHUP). */
export class TokenStore {
  private byHash: Map<string, TokenEntry>;

  constructor(readonly file: string) {
    this.byHash = this.read();
  }

  private read(): Map<string, TokenEntry> {
    return parseTokens(readFileSync(this.file, 'utf8'), this.file);
  }

  get size(): number {
    return this.byHash.size;
  }

  /** Read the file again; on an error the tokens in use stay as they were. */
  reload(): number {
    this.byHash = this.read();
    return this.byHash.size;
  }

  /**
   * The caller's token entry for an `authorization` value: UNAUTHENTICATED
   * without a known token, PERMISSION_DENIED without the scope.
   */
  check(authorization: string | undefined, scope: Scope, what: string): TokenEntry {
    if (authorization === undefined || authorization === '')
      throw new FarosError('UNAUTHENTICATED', `${what} needs a token: send the header "authorization: Bearer <token>"`);
    const m = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!m) throw new FarosError('UNAUTHENTICATED', `the authorization header must be "Bearer <token>", not ${clip(authorization.replace(/\S{8,}$/, '…'))}`);
    const entry = this.byHash.get(hashToken(m[1]!));
    if (!entry) throw new FarosError('UNAUTHENTICATED', 'the token is not known here (mistyped, or revoked); ask for a new one');
    if (!entry.scopes.has(scope))
      throw new FarosError('PERMISSION_DENIED', `token "${entry.name}" has scopes ${[...entry.scopes].join(',')}; ${what} needs scope "${scope}"`);
    return entry;
  }

  /**
   * Does the token of `entry` still have `scope` (a stream re-checks after a
   * reload)? By hash: a reload makes new entries for the tokens it keeps.
   */
  stillAllows(entry: TokenEntry, scope: Scope): boolean {
    return this.byHash.get(entry.hash)?.scopes.has(scope) ?? false;
  }
}

/** Create a token, append its hash to `file` (created 0600), return the token (shown once). */
export function createToken(file: string, name: string, scopes: readonly string[]): string {
  if (!/^\S+$/.test(name)) throw new Error(`--name "${name}" must be one word without spaces`);
  for (const s of scopes) if (!(SCOPES as readonly string[]).includes(s)) throw new Error(`unknown scope "${s}"; scopes are ${SCOPES.join(', ')}`);
  if (scopes.length === 0) throw new Error(`give at least one scope (${SCOPES.join(', ')})`);
  if (existsSync(file)) parseTokens(readFileSync(file, 'utf8'), file); // refuse to append to a broken file
  const token = PREFIX + randomBytes(32).toString('base64url');
  const line = `${name} ${[...new Set(scopes)].join(',')} ${hashToken(token)}\n`;
  if (existsSync(file)) appendFileSync(file, line);
  else writeFileSync(file, `# Faros client tokens: NAME SCOPES SHA256(token). Reloaded on SIGHUP.\n${line}`, { mode: 0o600 });
  return token;
}
