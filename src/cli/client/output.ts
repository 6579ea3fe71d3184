import { UsageError } from './errors';

/** `table` for people, `json` (one document) and `jsonl` (one object a line) for programs. */
export type Format = 'table' | 'json' | 'jsonl';
const FORMATS: readonly Format[] = ['table', 'json', 'jsonl'];

/** The `--output` flag; absent: `table` on a terminal, `json` when stdout is piped. */
export function formatOf(flag: string | undefined): Format {
  if (flag === undefined) return process.stdout.isTTY ? 'table' : 'json';
  if (!(FORMATS as readonly string[]).includes(flag)) throw new UsageError(`--output: "${flag}" is not one of ${FORMATS.join(', ')}`);
  return flag as Format;
}

const write = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** One answer: pretty JSON, one compact line, or `key  value` rows. */
export function printDocument(format: Format, value: unknown): void {
  if (format === 'json') return write(JSON.stringify(value, null, 2));
  if (format === 'jsonl') return write(JSON.stringify(value));
  if (value === null || typeof value !== 'object') return write(String(value));
  const entries = Object.entries(value as Record<string, unknown>);
  const width = Math.max(0, ...entries.map(([key]) => key.length));
  for (const [key, field] of entries) write(`${key.padEnd(width)}  ${cell(field)}`);
}

/** A page `{data, next}`: the page as JSON, one item a line, or a table of `columns`. */
export function printPage<T>(format: Format, page: { data: T[]; next?: string | null }, columns: readonly string[]): void {
  if (format === 'json') return write(JSON.stringify(page, null, 2));
  if (format === 'jsonl') return page.data.forEach((item) => write(JSON.stringify(item)));
  printTable(page.data as Record<string, unknown>[], columns);
  if (page.next) process.stderr.write(`more: --after ${page.next}\n`);
}

function printTable(rows: Record<string, unknown>[], columns: readonly string[]): void {
  const cells = rows.map((row) => columns.map((column) => cell(pick(row, column))));
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((line) => line[i]?.length ?? 0)));
  const line = (values: readonly string[]) => write(values.map((value, i) => value.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
  line(columns);
  cells.forEach(line);
}

/** `error.code` reads a nested field. */
function pick(row: Record<string, unknown>, path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), row);
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return '-';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
