// A small RFC 4180 CSV reader (quotes, doubled quotes, CRLF) with errors that
// name the file and line. Inputs here are driver and query lists.
import { readFileSync } from 'node:fs';

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

export interface CsvTable {
  file: string;
  header: string[];
  rows: { line: number; cells: string[] }[];
}

export function readCsv(file: string): CsvTable {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const records = parseCsv(text, file);
  if (records.length === 0 || records[0].cells.every((c) => c.trim() === '')) throw new InputError(`${file}: empty file, expected a header line`);
  const header = records[0].cells.map((h) => h.trim());
  const rows = records.slice(1).filter((r) => !(r.cells.length === 1 && r.cells[0].trim() === ''));
  for (const r of rows) {
    if (r.cells.length !== header.length)
      throw new InputError(`${file}:${r.line}: expected ${header.length} columns (${header.join(',')}), found ${r.cells.length}`);
  }
  return { file, header, rows };
}

function parseCsv(text: string, file: string): { line: number; cells: string[] }[] {
  const out: { line: number; cells: string[] }[] = [];
  let cells: string[] = [],
    cell = '',
    quoted = false,
    line = 1,
    start = 1,
    i = 0;
  const endRecord = () => {
    cells.push(cell);
    out.push({ line: start, cells });
    cells = [];
    cell = '';
  };
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      if (c === '\n') line++;
      cell += c;
      i++;
      continue;
    }
    if (c === '"' && cell === '') {
      quoted = true;
      i++;
      continue;
    }
    if (c === ',') {
      cells.push(cell);
      cell = '';
      i++;
      continue;
    }
    if (c === '\r' && text[i + 1] === '\n') {
      i++;
      continue;
    }
    if (c === '\n') {
      endRecord();
      line++;
      start = line;
      i++;
      continue;
    }
    cell += c;
    i++;
  }
  if (quoted) throw new InputError(`${file}:${start}: unterminated quoted field`);
  if (cell !== '' || cells.length > 0) endRecord();
  return out;
}

/** Index of a required column, or a clear error. */
export function column(t: CsvTable, name: string): number {
  const i = t.header.indexOf(name);
  if (i < 0) throw new InputError(`${t.file}: missing column "${name}" (header is: ${t.header.join(',')})`);
  return i;
}

export function num(
  t: CsvTable,
  row: { line: number; cells: string[] },
  col: number,
  what: string,
  min: number,
  max: number,
  opts: { integer?: boolean; exclusiveMin?: boolean } = {},
): number {
  const raw = row.cells[col].trim();
  const v = raw === '' ? NaN : Number(raw);
  const bad = (why: string) => new InputError(`${t.file}:${row.line}: ${what} ${why} (got "${row.cells[col]}")`);
  if (!Number.isFinite(v)) throw bad('is not a number');
  if (opts.integer && !Number.isInteger(v)) throw bad('must be an integer');
  if (v < min || v > max || (opts.exclusiveMin && v === min)) throw bad(`must be ${opts.exclusiveMin ? 'above' : 'at least'} ${min} and at most ${max}`);
  return v;
}
