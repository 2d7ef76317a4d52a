import { readFileSync } from 'node:fs';
import type { RequestContext } from '../../src/ingest/adapter.ts';

const FIXTURES = new URL('../fixtures/', import.meta.url);

export function fixture(family: string, name: string): Buffer {
  return readFileSync(new URL(`${family}/${name}`, FIXTURES));
}

export function requestContext(receivedAt: number): RequestContext {
  return { entryToken: 'tok-123', receivedAt, remoteAddress: '192.0.2.10', contentType: 'application/json' };
}
