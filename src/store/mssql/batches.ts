// Splits a T-SQL script into batches at GO separators, as sqlcmd and SSMS do. GO is not T-SQL:
// the server never sees it, so a script must be cut before it is sent. A separator is a line that
// holds only GO (any case), optionally a repeat count and a trailing -- comment; a GO inside a
// string literal, a quoted or bracketed identifier or a (nested) block comment is text, not a cut.

export interface SqlBatch {
  sql: string;
  /** 1-based line of the script where the batch starts, for error messages. */
  line: number;
  /** GO n runs the batch n times. */
  repeat: number;
}

const SEPARATOR = /^[ \t]*go(?:[ \t]+(\d+))?[ \t]*(?:--.*)?$/i;

type Scan =
  | { in: 'code' }
  | { in: 'block-comment'; depth: number }
  | { in: 'quoted'; close: "'" | '"' | ']' };

export class BatchSplitError extends Error {}

export function splitBatches(script: string): SqlBatch[] {
  const lines = script.replace(/^\uFEFF/, '').split(/\r?\n/);
  const batches: SqlBatch[] = [];
  let current: string[] = [];
  let startLine = 1;
  let hasCode = false;
  let state: Scan = { in: 'code' };
  let openedAt = 0;

  for (let index = 0; index < lines.length; index++) {
    const text = lines[index];
    const lineNo = index + 1;
    const separator = state.in === 'code' ? SEPARATOR.exec(text) : null;
    if (separator) {
      const repeat = separator[1] === undefined ? 1 : Number(separator[1]);
      if (repeat < 1) throw new BatchSplitError(`line ${lineNo}: GO ${separator[1]} must repeat at least once`);
      if (hasCode) batches.push({ sql: current.join('\n'), line: startLine, repeat });
      current = [];
      hasCode = false;
      startLine = lineNo + 1;
      continue;
    }
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      const next = text[i + 1];
      if (state.in === 'block-comment') {
        if (c === '*' && next === '/') { i++; state = state.depth === 1 ? { in: 'code' } : { in: 'block-comment', depth: state.depth - 1 }; }
        else if (c === '/' && next === '*') { i++; state = { in: 'block-comment', depth: state.depth + 1 }; }
      } else if (state.in === 'quoted') {
        if (c === state.close) {
          if (next === state.close) i++; // doubled quote: an escaped one, still inside
          else state = { in: 'code' };
        }
      } else if (c === '-' && next === '-') {
        break; // line comment: the rest of the line is text
      } else if (c === '/' && next === '*') {
        i++;
        state = { in: 'block-comment', depth: 1 };
        openedAt = lineNo;
      } else if (c === "'" || c === '"' || c === '[') {
        state = { in: 'quoted', close: c === '[' ? ']' : c };
        openedAt = lineNo;
        hasCode = true;
      } else if (!/\s/.test(c)) {
        hasCode = true;
      }
    }
    current.push(text);
  }
  if (state.in === 'block-comment') throw new BatchSplitError(`line ${openedAt}: block comment is never closed`);
  if (state.in === 'quoted') throw new BatchSplitError(`line ${openedAt}: ${state.close === ']' ? 'bracketed identifier' : 'quoted text'} is never closed`);
  if (hasCode) batches.push({ sql: current.join('\n'), line: startLine, repeat: 1 });
  return batches;
}
