#!/usr/bin/env node
// Launcher: the TypeScript sources when they are here (a checkout: Node 24 strips types), else the
// built app (dist/, an installed package without sources). A checkout's dist/ is only the
// installer's build output and may be older than the sources, so it is never preferred.
import { existsSync } from 'node:fs';
import module from 'node:module';
if (Number(process.versions.node.split('.')[0]) < 24) {
  console.error(`inlet needs Node.js 24 or later (this is ${process.version}): run it as \`npm run inlet -- ...\` or \`npx inlet ...\` after \`npm install\`, which use the Node 24 in node_modules/.bin`);
  process.exit(1);
}
// on before the first TypeScript module: with every module in the cache, no type stripping at all
module.enableCompileCache();
const sources = new URL('../src/cli/inlet.ts', import.meta.url);
await import(existsSync(sources) ? sources.href : new URL('../dist/cli/inlet.js', import.meta.url).href);
