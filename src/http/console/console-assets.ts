/**
 * The operator console's files (`console/dist/`, built by `npm run build:console`), read once at
 * start into a fixed manifest: URL path → bytes, media type and cache policy. Only the files in
 * the manifest are ever served, so no request path reaches the file system (no traversal).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { findProjectRoot } from '../../project-root.ts';

/** Where the built console lives, relative to the project root. */
export const CONSOLE_DIST = 'console/dist';

/** One servable file. */
export interface ConsoleAsset {
  body: Buffer;
  contentType: string;
  /** `no-cache` for the page (it names the current bundles), long-lived for hashed bundle names. */
  cacheControl: string;
}

const MEDIA_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

/** A bundle whose name carries its content hash (esbuild's `[name]-[hash]`), safe to cache for a year. */
const HASHED = /-[A-Z0-9]{8}\.(?:js|css)$/;

/**
 * The manifest of the built console: `/console` for `index.html`, `/console/{file}` for each
 * other file with a known media type (`.map` files and anything else are left out). Empty when the
 * console has not been built.
 */
export function loadConsoleAssets(root = findProjectRoot()): Map<string, ConsoleAsset> {
  const dir = path.join(root, CONSOLE_DIST);
  const assets = new Map<string, ConsoleAsset>();
  for (const name of listFiles(dir)) {
    const contentType = MEDIA_TYPES[path.extname(name)];
    if (!contentType) continue;
    const body = readFileSync(path.join(dir, name));
    const url = name === 'index.html' ? '/console' : `/console/${name.split(path.sep).join('/')}`;
    assets.set(url, { body, contentType, cacheControl: HASHED.test(name) ? 'public, max-age=31536000, immutable' : 'no-cache' });
  }
  return assets;
}

/** Every file under `dir`, relative to it; none when it does not exist. */
function listFiles(dir: string, prefix = ''): string[] {
  let names: string[];
  try {
    names = readdirSync(path.join(dir, prefix));
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const relative = path.join(prefix, name);
    return statSync(path.join(dir, relative)).isDirectory() ? listFiles(dir, relative) : [relative];
  });
}
