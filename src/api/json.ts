// proto3 JSON → the proto-loader shape validate.ts reads. Field names may be
// lowerCamelCase or the proto's snake_case; null means "not set"; an unknown
// field is refused (a typo would otherwise silently become a default). The
// fields are the proto's, read by reflection (reflect.ts).
import { FarosError } from '../errors.js';
import { ITEM_ERROR } from './validate.js';
import { clip, quote } from '../quote.js';
import { messageInfo, type FieldInfo, type MessageName } from './reflect.js';

/** A message's fields by every name the gateway accepts (lowerCamelCase and the proto's snake_case). */
const fieldsByName = new Map<string, Map<string, FieldInfo>>();
function fieldsOf(type: MessageName): Map<string, FieldInfo> {
  let m = fieldsByName.get(type);
  if (!m) {
    m = new Map();
    for (const f of messageInfo(type).fields) m.set(f.json, f).set(f.proto, f);
    fieldsByName.set(type, m);
  }
  return m;
}

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
export function parseJsonBody(body: string, type: MessageName): Record<string, unknown> {
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

function normalise(v: unknown, type: MessageName, path: string): unknown {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new FarosError('INVALID_ARGUMENT', `${path.replace(/\.$/, '') || 'request body'} must be a JSON object (${type})`);
  }
  const fields = fieldsOf(type);
  const out: Record<string, unknown> = {};
  for (const [key, val] of Object.entries(v as Record<string, unknown>)) {
    const f = fields.get(key);
    if (f === undefined) {
      const names = messageInfo(type).fields.map((x) => x.json);
      throw new FarosError('INVALID_ARGUMENT', `unknown field ${quote(path + key)} in ${type}; its fields are ${names.join(', ')}`);
    }
    const name = f.json;
    const where = `${path}${f.proto}`;
    if (Object.hasOwn(out, name)) throw new FarosError('INVALID_ARGUMENT', `field ${where} is given twice (as camelCase and snake_case); send it once`);
    if (val === null) continue;
    if (f.kind !== 'message' || f.map) out[name] = val;
    else if (!f.repeated) out[name] = normalise(val, f.type as MessageName, `${where}.`);
    else {
      if (!Array.isArray(val)) throw new FarosError('INVALID_ARGUMENT', `${where} must be a JSON array of ${f.type}`);
      // A malformed item rejects that item only: it carries its error to validate.batchRequest.
      out[name] = val.map((item, i) => {
        try {
          return normalise(item, f.type as MessageName, `${where}[${i}].`);
        } catch (e) {
          const raw = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
          return { [ITEM_ERROR]: e, driverId: raw.driverId ?? raw.driver_id, mapId: raw.mapId ?? raw.map_id };
        }
      });
    }
  }
  return out;
}
