// Inlet's version for the reports' title block, read as main.ts reads it (report code must not import the composition root).
import { readFileSync } from 'node:fs';

export const INLET_VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
