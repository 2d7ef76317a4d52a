import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchSplitError, splitBatches } from '../../src/store/mssql/batches.ts';

const sqlOf = (script: string) => splitBatches(script).map((b) => b.sql.trim());

test('splits on GO lines, any case, with surrounding blanks and a trailing comment', () => {
  assert.deepEqual(sqlOf('SELECT 1;\nGO\nSELECT 2;\n  go  \nSELECT 3;\nGo -- done\nSELECT 4;'), ['SELECT 1;', 'SELECT 2;', 'SELECT 3;', 'SELECT 4;']);
});

test('GO with a count repeats the batch; line numbers point at the batch start', () => {
  const batches = splitBatches('PRINT 1;\nGO 3\n\nPRINT 2;\nGO');
  assert.deepEqual(batches.map((b) => [b.sql.trim(), b.line, b.repeat]), [['PRINT 1;', 1, 3], ['PRINT 2;', 3, 1]]);
  assert.throws(() => splitBatches('PRINT 1;\nGO 0'), BatchSplitError);
});

test('accepts CRLF line ends and a byte order mark', () => {
  assert.deepEqual(sqlOf('\uFEFFSELECT 1;\r\nGO\r\nSELECT 2;\r\n'), ['SELECT 1;', 'SELECT 2;']);
});

test('GO that is not alone on its line is not a separator', () => {
  assert.deepEqual(sqlOf('SELECT 1 AS go\nGO\nEXEC sp_go; GO\nGOTO done;\nGO2'), ['SELECT 1 AS go', 'EXEC sp_go; GO\nGOTO done;\nGO2']);
});

test('GO inside a string literal, with doubled quotes, is text', () => {
  assert.deepEqual(sqlOf("INSERT t VALUES (N'it''s\nGO\nstill text');\nGO\nSELECT 2;"), ["INSERT t VALUES (N'it''s\nGO\nstill text');", 'SELECT 2;']);
});

test('GO inside nested block comments is text; a line comment does not open anything', () => {
  assert.deepEqual(sqlOf('/* outer /* inner\nGO\n*/ still comment\nGO\n*/ SELECT 1;\nGO\n-- a comment with a quote \' and /*\nSELECT 2;'),
    ['/* outer /* inner\nGO\n*/ still comment\nGO\n*/ SELECT 1;', "-- a comment with a quote ' and /*\nSELECT 2;"]);
});

test('GO inside bracketed or double-quoted identifiers is text', () => {
  assert.deepEqual(sqlOf('CREATE TABLE [odd\nGO\nname]] here] (x int);\nGO\nSELECT "a\nGO\nb" FROM t;'),
    ['CREATE TABLE [odd\nGO\nname]] here] (x int);', 'SELECT "a\nGO\nb" FROM t;']);
});

test('batches holding only comments or blanks are dropped', () => {
  assert.deepEqual(sqlOf('-- header only\nGO\n\nGO\nSELECT 1;\nGO\n/* trailer */'), ['SELECT 1;']);
});

test('an unclosed string, identifier or comment is an error naming the line', () => {
  assert.throws(() => splitBatches("SELECT 1;\nSELECT 'oops;\nGO"), /line 2: quoted text is never closed/);
  assert.throws(() => splitBatches('SELECT [x;\nGO'), /line 1: bracketed identifier is never closed/);
  assert.throws(() => splitBatches('SELECT 1;\n/* /* */\nGO'), /line 2: block comment is never closed/);
});
