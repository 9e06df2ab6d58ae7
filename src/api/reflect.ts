// The public proto read by reflection (protobufjs, which proto-loader is built
// on): message fields with their proto and JSON names, kinds and comments.
// The gateway's JSON reading (json.ts) and the OpenAPI document (openapi.ts)
// are derived from it, so neither keeps a copy of the proto.
import { join } from 'node:path';
import protobuf from 'protobufjs';
import type { ProtoGrpcType } from '../gen/faros.js';
import { FAROS_PROTO, PROTO_DIR } from './proto.js';

type V1 = ProtoGrpcType['faros']['v1'];
/** Names of the messages of faros.v1 (from the generated types). */
export type MessageName = { [K in keyof V1]: V1[K] extends { format: 'Protocol Buffer 3 DescriptorProto' } ? K : never }[keyof V1];

export interface FieldInfo {
  /** lowerCamelCase: the proto3 JSON name and proto-loader's property name. */
  json: string;
  /** As written in the proto (snake_case); the gateway accepts it too. */
  proto: string;
  repeated: boolean;
  /** map<key, value>: `type` is the value's type. */
  map: boolean;
  kind: 'scalar' | 'message' | 'enum';
  /** Scalar type (double, int64, string…), or the short name of the message or enum. */
  type: string;
  comment: string | undefined;
}

export interface MessageInfo {
  name: string;
  comment: string | undefined;
  fields: FieldInfo[];
}

export interface EnumInfo {
  name: string;
  comment: string | undefined;
  values: { name: string; number: number; comment: string | undefined }[];
}

const PACKAGE = 'faros.v1';
let root: protobuf.Root | undefined;

function load(): protobuf.Root {
  if (!root) {
    root = new protobuf.Root().loadSync(join(PROTO_DIR, FAROS_PROTO), { keepCase: true, alternateCommentMode: true });
    root.resolveAll();
  }
  return root;
}

const text = (c: string | null): string | undefined => c ?? undefined;

export function messageInfo(name: MessageName): MessageInfo {
  const t = load().lookupType(`${PACKAGE}.${name}`);
  return {
    name,
    comment: text(t.comment),
    fields: t.fieldsArray.map((f) => ({
      json: protobuf.util.camelCase(f.name),
      proto: f.name,
      repeated: f.repeated,
      map: f.map,
      kind: f.resolvedType instanceof protobuf.Type ? 'message' : f.resolvedType instanceof protobuf.Enum ? 'enum' : 'scalar',
      type: f.resolvedType ? f.resolvedType.name : f.type,
      comment: text(f.comment),
    })),
  };
}

export function enumInfo(name: string): EnumInfo {
  const e = load().lookupEnum(`${PACKAGE}.${name}`);
  return {
    name,
    comment: text(e.comment),
    values: Object.entries(e.values).map(([n, number]) => ({ name: n, number, comment: text(e.comments[n] ?? null) })),
  };
}

/** The comment on an RPC of the Faros service. */
export function rpcComment(method: string): string | undefined {
  const m = load().lookupService(`${PACKAGE}.Faros`).methods[method];
  if (!m) throw new Error(`faros.v1.Faros has no RPC ${method}`);
  return text(m.comment);
}
