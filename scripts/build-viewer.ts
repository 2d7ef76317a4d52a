// Builds the web viewer from viewer/ into build/viewer: one small entry bundle, chart code split
// off and loaded on demand, uPlot's CSS bundled in. File names carry a content hash so browsers
// may cache them for good; index.html points at them. A gzip copy of each file is written
// beside it for the server to send as is.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, constants } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = path.join(root, 'build', 'viewer');
const assetsDir = path.join(outDir, 'assets');

rmSync(outDir, { recursive: true, force: true });
mkdirSync(assetsDir, { recursive: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: { main: 'viewer/src/main.ts', styles: 'viewer/src/styles.css' },
  outdir: assetsDir,
  entryNames: '[name]-[hash]',
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  target: ['chrome109', 'firefox115', 'safari16', 'edge109'],
  minify: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});

function outputFor(entry: string): string {
  const found = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint === entry);
  if (!found) throw new Error(`esbuild produced nothing for ${entry}`);
  return path.basename(found[0]);
}

const html = readFileSync(path.join(root, 'viewer', 'index.html'), 'utf8')
  .replace('/assets/STYLES', `/assets/${outputFor('viewer/src/styles.css')}`)
  .replace('/assets/SCRIPT', `/assets/${outputFor('viewer/src/main.ts')}`);
writeFileSync(path.join(outDir, 'index.html'), html);

let files = 0;
for (const entry of readdirSync(outDir, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile()) continue;
  const file = path.join(entry.parentPath, entry.name);
  writeFileSync(`${file}.gz`, gzipSync(readFileSync(file), { level: constants.Z_BEST_COMPRESSION }));
  files++;
}
console.log(`viewer built into ${path.relative(root, outDir)} (${files} files)`);
