// Builds the application as IT receives it (the installer's app\ folder): a few esbuild bundles instead of
// src/ and node_modules/, plus sql/ and the built viewer. Usage: node scripts/build-app.ts <out dir>
//
// Layout of <out>, the same relative paths as the repository, so that every `new URL('../../sql/',
// import.meta.url)` in src/ finds its file without knowing it was bundled:
//   package.json            name, version, "type": "module" (main.ts reads the version from it)
//   dist/cli/inlet.js       the `inlet` command and the gateway: src/cli/inlet.ts with every dependency
//   dist/service/stop-signal.js   the service's stop helper: only src/service/ (starts in a few ms)
//   dist/<path>.js          every worker thread entry of src/ (a file that uses worker_threads' parentPort),
//                           found by looking, so a new worker needs no change here
//   sql/                    migrations, byte for byte (their checksums are recorded in the databases)
//   build/viewer/           the web viewer (scripts/build-viewer.ts)
//
// How a bundle keeps file-relative paths right: inside src/, `import.meta.url` is replaced by the URL the
// module would have had as dist/<its path>.js next to the bundle, computed from the bundle's own location at
// run time. Dependencies (node_modules) are left alone.
import { build, type Plugin } from 'esbuild';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = path.join(ROOT, 'src');

/** The programs the payload starts directly. Workers are found by findWorkerEntries(). */
const MAIN_ENTRIES = ['cli/inlet.ts', 'service/stop-signal-main.ts'];
/** Output names that differ from the source name. */
const RENAMED: Record<string, string> = { 'service/stop-signal-main.ts': 'service/stop-signal.js' };

/** Files a bundled package reads from its own folder at run time: copied next to the bundle that uses it. */
const PACKAGE_DATA: Array<{ pkg: string; dir: string; to: string }> = [
  // pdfkit reads its standard fonts' metrics from __dirname + '/data/'
  { pkg: 'pdfkit', dir: 'js/data', to: 'data' },
];

export function findWorkerEntries(srcDir = SRC): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(srcDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const file = path.join(entry.parentPath, entry.name);
    const text = readFileSync(file, 'utf8');
    if (/from\s+'node:worker_threads'/.test(text) && /\bparentPort\b/.test(text)) found.push(path.relative(srcDir, file).split(path.sep).join('/'));
  }
  return found.sort();
}

const outName = (entry: string) => RENAMED[entry] ?? entry.replace(/\.ts$/, '.js');

/**
 * Requires a bundler cannot see, made visible. pdfkit loads its standard fonts (Helvetica...) through a
 * createRequire() of its own and its private "#standard-fonts/*" imports; the same modules are public as
 * "pdfkit/standard-fonts/*", which esbuild can bundle when the require is a plain one.
 */
const PACKAGE_PATCHES: Array<{ file: RegExp; from: RegExp; to: string }> = [
  { file: /[\\/]node_modules[\\/]pdfkit[\\/]js[\\/]pdfkit(\.node\.mjs|\.js)$/, from: /\brequire\$1\('#standard-fonts\//g, to: "require('pdfkit/standard-fonts/" },
];

function patchPackages(): Plugin {
  return {
    name: 'inlet-patch-packages',
    setup(b) {
      b.onLoad({ filter: /[\\/]node_modules[\\/].*\.(m?js|cjs)$/ }, (args) => {
        const patches = PACKAGE_PATCHES.filter((p) => p.file.test(args.path));
        if (patches.length === 0) return undefined;
        let text = readFileSync(args.path, 'utf8');
        for (const p of patches) text = text.replace(p.from, p.to);
        return { contents: text, loader: 'js' };
      });
    },
  };
}

/** Rewrites import.meta.url in src/ modules to their would-be location dist/<path>.js. */
function relocateImportMeta(bundleOut: string): Plugin {
  // from the bundle's folder up to dist/
  const toDist = path.posix.relative(path.posix.dirname(bundleOut), '.') || '.';
  return {
    name: 'inlet-relocate-import-meta',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, (args) => {
        const rel = path.relative(SRC, args.path);
        if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
        const wouldBe = rel.split(path.sep).join('/').replace(/\.ts$/, '.js');
        const url = `new URL(${JSON.stringify(`${toDist}/${wouldBe}`)}, import.meta.url).href`;
        const text = readFileSync(args.path, 'utf8').replace(/\bimport\.meta\.url\b/g, url);
        return { contents: text, loader: 'ts' };
      });
    },
  };
}

export interface AppBuild { outDir: string; files: number; bytes: number; bundles: string[] }

export async function buildApp(outDir: string): Promise<AppBuild> {
  const viewer = path.join(ROOT, 'build', 'viewer', 'index.html');
  if (!existsSync(viewer)) throw new Error(`${viewer} is missing: run \`npm run build:viewer\` first`);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(path.join(outDir, 'dist'), { recursive: true });

  const entries = [...MAIN_ENTRIES, ...findWorkerEntries()];
  const bundles: string[] = [];
  const usedPackages = new Set<string>();
  for (const entry of entries) {
    const out = outName(entry);
    const result = await build({
      absWorkingDir: ROOT,
      entryPoints: [path.join(SRC, entry)],
      outfile: path.join(outDir, 'dist', out),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node24',
      minify: true,
      legalComments: 'none',
      metafile: true,
      logLevel: 'warning',
      // CommonJS dependencies inside an ES module bundle still call require() and read __dirname.
      banner: {
        js: [
          "import { createRequire as __inletCreateRequire } from 'node:module';",
          "import { fileURLToPath as __inletFileURLToPath } from 'node:url';",
          'const require = __inletCreateRequire(import.meta.url);',
          'const __filename = __inletFileURLToPath(import.meta.url);',
          "const __dirname = __inletFileURLToPath(new URL('.', import.meta.url));",
        ].join(' '),
      },
      plugins: [relocateImportMeta(out), patchPackages()],
    });
    for (const input of Object.keys(result.metafile.inputs)) {
      const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
      if (m) usedPackages.add(m[1]);
    }
    for (const { pkg, dir, to } of PACKAGE_DATA) {
      if ([...Object.keys(result.metafile.inputs)].some((i) => i.includes(`node_modules/${pkg}/`))) {
        cpSync(path.join(ROOT, 'node_modules', pkg, dir), path.join(outDir, 'dist', path.dirname(out), to), { recursive: true });
      }
    }
    bundles.push(`dist/${out}`);
  }

  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; license?: string };
  writeFileSync(path.join(outDir, 'package.json'),
    JSON.stringify({ name: pkg.name, version: pkg.version, private: true, type: 'module', license: pkg.license }, null, 2) + '\n');
  cpSync(path.join(ROOT, 'sql'), path.join(outDir, 'sql'), { recursive: true });
  cpSync(path.join(ROOT, 'build', 'viewer'), path.join(outDir, 'build', 'viewer'), { recursive: true });
  writeFileSync(path.join(outDir, 'THIRD-PARTY-PACKAGES.txt'), thirdPartyNotices([...usedPackages].sort()));

  let files = 0;
  let bytes = 0;
  for (const entry of readdirSync(outDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    files++;
    bytes += statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return { outDir, files, bytes, bundles };
}

/** The bundles hold code of these packages: their names, versions and licenses (texts where the package has one). */
function thirdPartyNotices(packages: string[]): string {
  const parts = ['The bundles in dist\\ contain code from these npm packages, unchanged except for minification.', ''];
  for (const name of packages) {
    const dir = path.join(ROOT, 'node_modules', name);
    const meta = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string; license?: string };
    parts.push(`${name} ${meta.version} (${meta.license ?? 'see its license text'})`);
    const licenseFile = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
    if (licenseFile) parts.push(readFileSync(path.join(dir, licenseFile), 'utf8').trim(), '');
  }
  return parts.join('\r\n').replace(/\r?\n/g, '\r\n') + '\r\n';
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const outDir = process.argv[2];
  if (!outDir) { console.error('usage: node scripts/build-app.ts <out dir>'); process.exit(2); }
  const started = Date.now();
  const r = await buildApp(path.resolve(outDir));
  console.log(`app built into ${r.outDir}: ${r.files} files, ${(r.bytes / 1048576).toFixed(1)} MiB (${r.bundles.join(', ')}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
