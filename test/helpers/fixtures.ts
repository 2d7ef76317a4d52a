import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import type { Upload } from '../../src/domain/types.ts';
import type { ParseResult, RequestContext } from '../../src/ingest/adapter.ts';

const FIXTURES = new URL('../fixtures/', import.meta.url);

export function fixture(family: string, name: string): Buffer {
  return readFileSync(new URL(`${family}/${name}`, FIXTURES));
}

export function requestContext(receivedAt: number): RequestContext {
  return { entryToken: 'tok-123', receivedAt, remoteAddress: '192.0.2.10', contentType: 'application/json' };
}

/** The parsed upload, or a test failure naming the refusal. */
export function upload(result: ParseResult): Upload {
  if (!result.ok) assert.fail(`expected an upload, got refusal: ${result.reason}`);
  return result.upload;
}

/** The refusal, or a test failure. */
export function refusal(result: ParseResult): { reason: string; status: number; serial?: string } {
  if (result.ok) assert.fail('expected a refusal');
  return result;
}

/** One test per bad fixture: refused with 422 and exactly this reason. */
export function itRefusesWith422(parse: (name: string) => ParseResult, cases: [string, string][]): void {
  for (const [name, reason] of cases) {
    it(`refuses ${name} with 422`, () => {
      const r = refusal(parse(name));
      assert.equal(r.status, 422);
      assert.equal(r.reason, reason);
    });
  }
}
