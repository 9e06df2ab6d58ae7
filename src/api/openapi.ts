// The HTTP gateway described as an OpenAPI 3.1 document, built from the
// gateway's route table (http.ts) and the proto (reflect.ts): a route added to
// the table, or a field added to the proto, is in the document.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HTTP_STATUS, type ErrorCode } from '../errors.js';
import { PROTO_DIR } from './proto.js';
import { enumInfo, messageInfo, rpcComment, type FieldInfo, type MessageName } from './reflect.js';
import { RPC_TABLE, type RpcName } from './service.js';

export type JsonSchema = Record<string, unknown>;

/** An answer that is not a proto message (a probe, the metrics, a page). */
export interface RawResponse {
  contentType: string;
  schema: JsonSchema;
  description: string;
  example?: unknown;
}

/** What the document needs to know of a route. */
export interface RouteDoc {
  /** The operationId (the RPC's name for an RPC route). */
  name: string;
  method: 'GET' | 'POST' | 'DELETE';
  /** `{field}` segments are path parameters named as the request message's fields. */
  path: string;
  summary: string;
  /** The request message the JSON body is read as. */
  body?: MessageName;
  /** The message answered with 200, or a raw answer. */
  response: MessageName | RawResponse;
  /** Answers other than 200 and the error JSON that the route writes itself, by HTTP status. */
  otherResponses?: Readonly<Record<number, RawResponse>>;
  /** Error codes this route gives beyond those of every RPC route (RPC_ERRORS). */
  errors?: readonly ErrorCode[];
  /** The RPC this route is the HTTP form of: it counts against --max-in-flight and needs a token with that RPC's scope. */
  rpc?: RpcName;
  /** A request that works on a server with the bundled maps, and an answer to it (both checked by test/e2e/openapi.test.ts). */
  /** Query-string parameters (a route read from the URL, not a body). */
  query?: readonly QueryParam[];
  example?: { params?: Readonly<Record<string, string>>; query?: Readonly<Record<string, string>>; body?: unknown; response?: unknown };
}

export interface QueryParam {
  name: string;
  required?: boolean;
  schema: JsonSchema;
  description: string;
}

/** Every RPC route can answer these. */
export const RPC_ERRORS: readonly ErrorCode[] = [
  'INVALID_ARGUMENT',
  'UNAUTHENTICATED',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'DEADLINE_EXCEEDED',
  'UNAVAILABLE',
  'INTERNAL',
];

/** When each code is answered, and a message of the kind the gateway writes. */
const ERROR_TEXT: Record<ErrorCode, { when: string; example: string }> = {
  INVALID_ARGUMENT: {
    when: 'a field is missing, malformed or out of range; the body is not JSON, is nested too deep or has an unknown field; X-Server-Timeout is not a positive number',
    example: 'location.lat = 91 is not a latitude; use degrees in [-90, 90]',
  },
  OUT_OF_RANGE: {
    when: "the point is farther from every road than the map's snap radius (the message gives the distance to the nearest road)",
    example: 'point (43.7, 7.6) is 10685.7 m from the nearest road, beyond the snap radius of 200 m; report a point on or near a road of map "monaco-car"',
  },
  FAILED_PRECONDITION: { when: 'the request cannot be served in the current state', example: 'failed precondition' },
  NOT_FOUND: {
    when: 'the map is not served (GET /v1/maps lists them), or the driver is unknown, removed or older than the TTL',
    example: 'unknown map "atlantis-car"; this instance serves: monaco-car, bayfront_singapore-car',
  },
  RESOURCE_EXHAUSTED: {
    when: 'more calls in flight than --max-in-flight, a full worker queue, or a batch over its limit; retry with backoff',
    example: 'server busy: 512 calls in flight on the http port (limit 512, --max-in-flight); retry with backoff or batch updates on a stream',
  },
  DEADLINE_EXCEEDED: {
    when: 'the X-Server-Timeout deadline passed; the work was abandoned',
    example: 'the call deadline passed before the answer was ready; allow a longer deadline or send less work per call',
  },
  UNAVAILABLE: { when: 'the map is still loading, or no replica of it answered', example: 'map "monaco-car" is still loading; retry shortly' },
  INTERNAL: { when: 'a bug (logged by the server)', example: 'internal error: ...' },
  CANCELLED: { when: 'the client went away', example: 'cancelled' },
  UNAUTHENTICATED: {
    when: 'with --tokens: no "Authorization: Bearer <token>" header, or a token the server does not know',
    example: 'Nearby needs a token: send the header "authorization: Bearer <token>"',
  },
  PERMISSION_DENIED: {
    when: 'with --tokens: the token lacks the scope the call needs',
    example: 'token "dispatch" has scopes query; UpdateDriver needs scope "update"',
  },
};

const ERROR_SCHEMA: JsonSchema = {
  description: 'Every error answer of the gateway (Google API error JSON).',
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'status', 'message'],
      properties: {
        code: { type: 'integer', description: 'The HTTP status, repeated.' },
        status: { type: 'string', description: 'The gRPC status code name.', enum: [...Object.keys(ERROR_TEXT), 'UNIMPLEMENTED'] },
        message: { type: 'string', description: 'What was wrong and how to fix it.' },
      },
    },
  },
};

type Direction = 'in' | 'out';

const INT64 = new Set(['int64', 'sint64', 'sfixed64', 'uint64', 'fixed64']);
const INT32 = new Set(['int32', 'sint32', 'sfixed32', 'uint32', 'fixed32']);

/** proto3 JSON of a scalar. A request may also send numbers as strings and int64 as numbers. */
function scalarSchema(type: string, dir: Direction): JsonSchema {
  const unsigned = type.startsWith('u') || type.startsWith('fixed');
  if (INT64.has(type))
    return {
      type: dir === 'out' ? 'string' : ['string', 'integer'],
      pattern: unsigned ? '^[0-9]+$' : '^-?[0-9]+$',
      ...(unsigned && dir === 'in' ? { minimum: 0 } : {}),
    };
  if (INT32.has(type)) return dir === 'out' ? { type: 'integer', ...(unsigned ? { minimum: 0 } : {}) } : { type: ['integer', 'string'] };
  if (type === 'double' || type === 'float') return { type: dir === 'out' ? 'number' : ['number', 'string'] };
  if (type === 'bool') return { type: 'boolean' };
  if (type === 'bytes') return { type: 'string', contentEncoding: 'base64' };
  return { type: 'string' };
}

function describe(schema: JsonSchema, ...parts: (string | undefined)[]): JsonSchema {
  const text = parts.filter((p) => p !== undefined && p !== '').join(' ');
  return text === '' ? schema : { ...schema, description: text };
}

class Components {
  readonly schemas: Record<string, JsonSchema> = { Error: ERROR_SCHEMA };
  private readonly reached = { in: new Set<MessageName>(), out: new Set<MessageName>() };

  /** Mark every message reachable from `name` as used in that direction. */
  reach(name: MessageName, dir: Direction): void {
    const set = this.reached[dir];
    if (set.has(name)) return;
    set.add(name);
    for (const f of messageInfo(name).fields) if (f.kind === 'message') this.reach(f.type as MessageName, dir);
  }

  /** A message used in requests and responses has two schemas; the request's is `<Name>Input`. */
  private schemaName(name: MessageName, dir: Direction): string {
    return dir === 'in' && this.reached.out.has(name) ? `${name}Input` : name;
  }

  ref(name: MessageName, dir: Direction): JsonSchema {
    return { $ref: `#/components/schemas/${this.schemaName(name, dir)}` };
  }

  /** Write the schema of every reached message. */
  build(): void {
    for (const dir of ['in', 'out'] as const) for (const name of this.reached[dir]) this.schemas[this.schemaName(name, dir)] = this.message(name, dir);
  }

  private message(name: MessageName, dir: Direction): JsonSchema {
    const m = messageInfo(name);
    const properties: Record<string, JsonSchema> = {};
    for (const f of m.fields) {
      properties[f.json] = this.field(f, dir);
      if (dir === 'in' && f.proto !== f.json) properties[f.proto] = { ...properties[f.json], description: `Same as ${f.json} (the proto's field name).` };
    }
    const schema: JsonSchema = { type: 'object', properties };
    if (dir === 'in') {
      schema.additionalProperties = false;
      return describe(schema, m.comment, `faros.v1.${name} in proto3 JSON: lowerCamelCase or snake_case names, null = not set, unknown fields refused.`);
    }
    // The gateway writes every field; only an unset message field (NearbyResult.response on an error) is left out.
    schema.required = m.fields.filter((f) => f.kind !== 'message' || f.repeated || f.map).map((f) => f.json);
    return describe(schema, m.comment, `faros.v1.${name} in proto3 JSON.`);
  }

  private field(f: FieldInfo, dir: Direction): JsonSchema {
    let one: JsonSchema;
    let note: string | undefined;
    if (f.kind === 'message') one = this.ref(f.type as MessageName, dir);
    else if (f.kind === 'enum') {
      const e = enumInfo(f.type);
      const names = e.values.map((v) => v.name);
      one = dir === 'out' ? { type: 'string', enum: names } : { enum: [...names, ...e.values.map((v) => v.number)] };
      note = `${f.type}: ${e.values.map((v) => (v.comment ? `${v.name} (${v.comment})` : v.name)).join(', ')}${dir === 'in' ? '; by name or number' : ''}.`;
    } else {
      one = scalarSchema(f.type, dir);
      if (INT64.has(f.type)) note = `${f.type}: a decimal string in JSON${dir === 'in' ? ' (a number is accepted too)' : ''}.`;
    }
    const whole = f.map ? { type: 'object', additionalProperties: one } : f.repeated ? { type: 'array', items: one } : one;
    return describe(dir === 'in' ? orNull(whole) : whole, f.comment, note);
  }
}

/** A request field may be null (not set). */
function orNull(s: JsonSchema): JsonSchema {
  if (s.$ref !== undefined) return { anyOf: [s, { type: 'null' }] };
  if (Array.isArray(s.enum)) return { ...s, enum: [...s.enum, null] };
  return { ...s, type: [...(Array.isArray(s.type) ? s.type : [s.type]), 'null'] };
}

function version(): string {
  return (JSON.parse(readFileSync(join(PROTO_DIR, '..', 'package.json'), 'utf8')) as { version: string }).version;
}

const jsonContent = (schema: JsonSchema, extra: JsonSchema = {}): JsonSchema => ({ 'application/json': { schema, ...extra } });

function errorResponses(codes: readonly ErrorCode[], hasBody: boolean): Record<string, JsonSchema> {
  const byStatus = new Map<number, { code: string; when: string; example: string }[]>();
  const add = (status: number, code: string, when: string, example: string): void => {
    byStatus.set(status, [...(byStatus.get(status) ?? []), { code, when, example }]);
  };
  for (const c of codes) add(HTTP_STATUS[c], c, ERROR_TEXT[c].when, ERROR_TEXT[c].example);
  if (hasBody)
    add(413, 'RESOURCE_EXHAUSTED', 'the body is over --max-message-bytes', 'request body exceeds 4194304 bytes (--max-message-bytes); send smaller batches');
  const out: Record<string, JsonSchema> = {};
  for (const [status, list] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    out[String(status)] = {
      description: list.map((x) => `${x.code}: ${x.when}.`).join(' '),
      content: jsonContent(
        { $ref: '#/components/schemas/Error' },
        { examples: Object.fromEntries(list.map((x) => [x.code, { value: { error: { code: status, status: x.code, message: x.example } } }])) },
      ),
    };
  }
  return out;
}

function rawResponse(r: RawResponse): JsonSchema {
  return { description: r.description, content: { [r.contentType]: { schema: r.schema, ...(r.example === undefined ? {} : { example: r.example }) } } };
}

function operation(route: RouteDoc, c: Components): JsonSchema {
  const op: JsonSchema = { operationId: route.name, summary: route.summary };
  const notes: string[] = [];
  if (route.rpc) {
    const comment = rpcComment(route.rpc);
    if (comment) notes.push(comment);
    notes.push(
      `The HTTP form of faros.v1.Faros/${route.rpc}.`,
      `With --tokens it needs "Authorization: Bearer <token>" of a token with the ${RPC_TABLE[route.rpc].scope} scope.`,
    );
    op.security = [{}, { bearer: [] }];
  }
  if (notes.length) op.description = notes.join(' ');
  const params: JsonSchema[] = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    description: 'Percent-encoded.',
    schema: { type: 'string', minLength: 1 },
    ...(route.example?.params?.[m[1]!] === undefined ? {} : { example: route.example.params[m[1]!] }),
  }));
  for (const q of route.query ?? [])
    params.push({
      name: q.name,
      in: 'query',
      required: q.required ?? false,
      description: q.description,
      schema: q.schema,
      ...(route.example?.query?.[q.name] === undefined ? {} : { example: route.example.query[q.name] }),
    });
  if (route.rpc)
    params.push({
      name: 'X-Server-Timeout',
      in: 'header',
      required: false,
      description: "The call's deadline in seconds (like a gRPC deadline): past it the work is abandoned and the answer is 504 DEADLINE_EXCEEDED.",
      schema: { type: 'number', exclusiveMinimum: 0 },
    });
  if (params.length) op.parameters = params;
  if (route.body) {
    c.reach(route.body, 'in');
    op.requestBody = {
      required: false,
      description: 'An empty body is the message with every field unset.',
      content: jsonContent(c.ref(route.body, 'in'), route.example?.body === undefined ? {} : { example: route.example.body }),
    };
  }
  let ok: JsonSchema;
  if (typeof route.response === 'string') {
    c.reach(route.response, 'out');
    const example = route.example?.response === undefined ? {} : { example: route.example.response };
    ok = { description: `faros.v1.${route.response}`, content: jsonContent(c.ref(route.response, 'out'), example) };
  } else ok = rawResponse(route.response);
  const responses: Record<string, JsonSchema> = { '200': ok };
  for (const [status, r] of Object.entries(route.otherResponses ?? {})) responses[status] = rawResponse(r);
  const codes = route.rpc ? [...new Set([...RPC_ERRORS, ...(route.errors ?? [])])] : (route.errors ?? []);
  Object.assign(responses, errorResponses(codes, route.body !== undefined));
  op.responses = responses;
  return op;
}

const DESCRIPTION = `The HTTP/JSON gateway of Faros: the same RPCs, validation and errors as the gRPC API (proto/faros/v1/faros.proto).

Bodies are proto3 JSON: field names in lowerCamelCase (the proto's snake_case names are accepted too), int64 values as decimal strings (numbers accepted in requests), enums by name (numbers accepted in requests), null = not set, unknown fields refused with 400. Answers carry every field, defaults included.

Every error is {"error": {"code": <HTTP status>, "status": "<gRPC code name>", "message": "..."}}; the message names the field, what was wrong and the fix. A path no route has is 404 NOT_FOUND; a known path with another method is 405 UNIMPLEMENTED with an Allow header.`;

/** The OpenAPI 3.1 document of these routes. */
export function openApiDocument(routes: readonly RouteDoc[]): JsonSchema {
  const c = new Components();
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const r of routes) (paths[r.path] ??= {})[r.method.toLowerCase()] = operation(r, c);
  c.build();
  return {
    openapi: '3.1.0',
    info: { title: 'Faros HTTP/JSON gateway', version: version(), description: DESCRIPTION, license: { name: 'Apache-2.0', identifier: 'Apache-2.0' } },
    paths,
    components: {
      schemas: c.schemas,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A client token (faros token create); required only by servers started with --tokens.' },
      },
    },
  };
}
