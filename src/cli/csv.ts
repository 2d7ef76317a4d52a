// A small CSV reader for files people write in a spreadsheet: comma or semicolon separated (the
// first line decides), double quotes around fields that hold separators, quotes or line breaks.
export interface CsvRow { line: number; cells: string[] }

export function parseCsv(text: string): CsvRow[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const firstLine = body.slice(0, body.search(/\r?\n|$/));
  const separator = firstLine.split(';').length > firstLine.split(',').length ? ';' : ',';
  const rows: CsvRow[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  const endRow = () => {
    cells.push(cell);
    if (cells.some((c) => c.trim() !== '')) rows.push({ line: rowLine, cells: cells.map((c) => c.trim()) });
    cells = [];
    cell = '';
  };
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (quoted) {
      if (ch === '"' && body[i + 1] === '"') { cell += '"'; i++; } else if (ch === '"') quoted = false;
      else { if (ch === '\n') line++; cell += ch; }
    } else if (ch === '"' && cell.trim() === '') { cell = ''; quoted = true; }
    else if (ch === separator) { cells.push(cell); cell = ''; }
    else if (ch === '\n') { endRow(); line++; rowLine = line; }
    else if (ch !== '\r') cell += ch;
  }
  if (quoted) throw new Error(`line ${rowLine}: a quoted field is not closed`);
  endRow();
  return rows;
}
