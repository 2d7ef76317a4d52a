#!/usr/bin/env node
// Launcher: the built app (dist/) when present, else the TypeScript sources (Node 24 strips types).
import { existsSync } from 'node:fs';
const built = new URL('../dist/cli/inlet.js', import.meta.url);
await import(existsSync(built) ? built.href : new URL('../src/cli/inlet.ts', import.meta.url).href);
