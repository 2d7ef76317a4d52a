// Serves the built viewer (build/viewer, made by `npm run build:viewer`) from memory: it is small,
// and files are read once. Names with a content hash are cached for a year; index.html is
// revalidated on every load so a new version shows up at once. Gzip copies made at build time are
// sent to browsers that accept them.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RequestHandler } from 'express';

export const VIEWER_BUILD_DIR = fileURLToPath(new URL('../../build/viewer/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json', '.map': 'application/json',
};

/** esbuild names bundles name-HASH.ext (8 characters of base32). */
const HASHED = /-[A-Z0-9]{8}\.[a-z]+$/;

/** Only our own files, scripts and styles; no framing; nothing leaks in the Referer. */
export const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

interface Asset { body: Buffer; gzip: Buffer | null; type: string; etag: string; cache: string }

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name.endsWith('.gz')) continue;
    const file = path.join(entry.parentPath, entry.name);
    const body = readFileSync(file);
    const urlPath = `/${path.relative(dir, file).split(path.sep).join('/')}`;
    assets.set(urlPath, {
      body, gzip: existsSync(`${file}.gz`) ? readFileSync(`${file}.gz`) : null,
      type: TYPES[path.extname(file)] ?? 'application/octet-stream',
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`,
      cache: HASHED.test(entry.name) ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
  }
  return assets;
}

export function viewerStatic(dir = VIEWER_BUILD_DIR): RequestHandler {
  const assets = existsSync(path.join(dir, 'index.html')) ? loadAssets(dir) : null;
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') { next(); return; }
    if (!assets) {
      if (req.path === '/') res.status(503).type('text/plain').send('The viewer is not built: run "npm run build:viewer" and restart Inlet.\n');
      else next();
      return;
    }
    const asset = assets.get(req.path === '/' ? '/index.html' : req.path);
    if (!asset) { next(); return; }
    res.set({ ...SECURITY_HEADERS, 'Content-Type': asset.type, 'Cache-Control': asset.cache, ETag: asset.etag, Vary: 'Accept-Encoding' });
    if (req.get('if-none-match') === asset.etag) { res.status(304).end(); return; }
    const gzip = asset.gzip && /\bgzip\b/.test(req.get('accept-encoding') ?? '');
    if (gzip) res.set('Content-Encoding', 'gzip');
    res.send(gzip ? asset.gzip : asset.body);
  };
}
