// proto3 JSON → the proto-loader shape validate.ts reads. Field names may be
// lowerCamelCase or the proto's snake_case; null means "not set"; an unknown
// field is refused (a typo would otherwise silently become a default).
import { FarosError } from '../errors.js';
import { ITEM_ERROR } from './validate.js';
import { clip, quote } from '../quote.js';

type FieldKind = 'scalar' | 'map' | { message: string } | { repeated: string };
type Schema = Record<string, Record<string, FieldKind>>;

const SCHEMA: Schema = {
  LatLng: { lat: 'scalar', lng: 'scalar' },
  UpdateDriverRequest: { mapId: 'scalar', driverId: 'scalar', location: { message: 'LatLng' }, timestampMs: 'scalar', metadata: 'map', ack: 'scalar' },
  UpdateDriversRequest: { updates: { repeated: 'UpdateDriverRequest' }, ack: 'scalar' },
  NearbyRequest: { mapId: 'scalar', location: { message: 'LatLng' }, k: 'scalar', metric: 'scalar', maxDistanceM: 'scalar', maxEtaS: 'scalar', filter: 'map' },
  NearbyBatchRequest: { queries: { repeated: 'NearbyRequest' } },
};

export type JsonMessage = keyof typeof SCHEMA;

const camel = (k: string): string => k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const snake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Deeper than any request message (a batch item's location is 4 levels down). */
export const MAX_JSON_DEPTH = 16;

/** Nesting depth of JSON text, counted without parsing (strings skipped). */
function depthOf(text: string): number {
  let depth = 0,
    max = 0,
    inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > max) max = depth;
    } // [ {
    else if (c === 93 || c === 125) depth--; // ] }
  }
  return max;
}

/** Parse a request body; bad JSON, JSON nested too deep or an unknown field → INVALID_ARGUMENT. */
export function parseJsonBody(body: string, type: JsonMessage): Record<string, unknown> {
  let v: unknown;
  const depth = depthOf(body);
  if (depth > MAX_JSON_DEPTH)
    throw new FarosError('INVALID_ARGUMENT', `request body is nested ${depth} levels deep; a ${type} needs at most ${MAX_JSON_DEPTH}`);
  try {
    v = body.trim() === '' ? {} : JSON.parse(body);
  } catch (e) {
    throw new FarosError('INVALID_ARGUMENT', `request body is not valid JSON (${clip((e as Error).message)}); send a JSON ${type} object`);
  }
  return normalise(v, type, '') as Record<string, unknown>;
}

function normalise(v: unknown, type: string, path: string): unknown {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new FarosError('INVALID_ARGUMENT', `${path.replace(/\.$/, '') || 'request body'} must be a JSON object (${type})`);
  }
  const fields = SCHEMA[type]!;
  const out: Record<string, unknown> = {};
  for (const [key, val] of Object.entries(v as Record<string, unknown>)) {
    const name = camel(key);
    // Own keys only: "constructor" or "toString" must not find Object.prototype's.
    const kind = Object.hasOwn(fields, name) ? fields[name] : undefined;
    const where = `${path}${snake(name)}`;
    if (kind === undefined) {
      throw new FarosError('INVALID_ARGUMENT', `unknown field ${quote(path + key)} in ${type}; its fields are ${Object.keys(fields).join(', ')}`);
    }
    if (Object.hasOwn(out, name)) throw new FarosError('INVALID_ARGUMENT', `field ${where} is given twice (as camelCase and snake_case); send it once`);
    if (val === null) continue;
    if (typeof kind === 'object' && 'message' in kind) out[name] = normalise(val, kind.message, `${where}.`);
    else if (typeof kind === 'object' && 'repeated' in kind) {
      if (!Array.isArray(val)) throw new FarosError('INVALID_ARGUMENT', `${where} must be a JSON array of ${kind.repeated}`);
      // A malformed item rejects that item only: it carries its error to validate.batchRequest.
      out[name] = val.map((item, i) => {
        try {
          return normalise(item, kind.repeated, `${where}[${i}].`);
        } catch (e) {
          const raw = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
          return { [ITEM_ERROR]: e, driverId: raw.driverId ?? raw.driver_id, mapId: raw.mapId ?? raw.map_id };
        }
      });
    } else out[name] = val;
  }
  return out;
}
