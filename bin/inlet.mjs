#!/usr/bin/env node
// Launcher: the TypeScript sources when they are here (a checkout: Node 24 strips types), else the
// built app (dist/, an installed package without sources). A checkout's dist/ is only the
// installer's build output and may be older than the sources, so it is never preferred.
import { existsSync } from 'node:fs';
const sources = new URL('../src/cli/inlet.ts', import.meta.url);
await import(existsSync(sources) ? sources.href : new URL('../dist/cli/inlet.js', import.meta.url).href);
