// Client input quoted in error messages: at most ~100 characters, and never
// by a recursive serializer (a value nested 200,000 deep overflows the stack).
const MAX = 100;

/** A string cut to MAX characters (an ellipsis marks the cut). */
export function clip(s: string): string {
  return s.length <= MAX ? s : `${s.slice(0, MAX)}…`;
}

/** A short, safe rendering of any client value for an error message. */
export function quote(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(clip(v));
    case 'number':
    case 'boolean':
    case 'bigint':
      return clip(String(v));
    case 'undefined':
      return 'nothing';
    default:
      if (v === null) return 'null';
      if (Array.isArray(v)) return `a list of ${v.length}`;
      return 'an object';
  }
}
