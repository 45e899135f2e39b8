/**
 * Builds the operator console (`console/src` → `console/dist`), run by `npm run build:console`
 * and by `npm ci` / `npm install` (the `prepare` script): esbuild bundles the TypeScript and
 * React app with GraphiQL and their CSS, minified, into content-hashed files (the explorer, most of
 * the bytes, in a chunk of its own loaded when first opened), then writes `index.html` naming
 * them. No CDN, nothing inline: the server serves these files under a CSP with `script-src 'self'`.
 *
 * `--check` builds into memory and exits 1 when `console/dist` differs (stale or missing).
 * Without the console's devDependencies (`npm ci --omit=dev`) it says so and exits 0: the server
 * then answers `/console` with a 404 saying the console is not built.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { findProjectRoot } from '../src/project-root.ts';

const root = findProjectRoot();
const source = path.join(root, 'console');
const dist = path.join(source, 'dist');
const check = process.argv.includes('--check');

const require = createRequire(import.meta.url);
const missing = ['esbuild', 'react', 'react-dom', 'graphiql'].filter((name) => {
  try {
    require.resolve(`${name}/package.json`);
    return false;
  } catch {
    return true;
  }
});
if (missing.length > 0) {
  console.error(`build-console: skipped, ${missing.join(', ')} not installed (devDependencies); /console will answer 404 until it is built`);
  process.exit(0);
}

const { build } = await import('esbuild');
const result = await build({
  entryPoints: [path.join(source, 'src/main.tsx')],
  absWorkingDir: root,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox110', 'safari16'],
  minify: true,
  legalComments: 'none',
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  entryNames: '[name]-[hash]',
  chunkNames: 'chunk-[hash]',
  assetNames: '[name]-[hash]',
  loader: { '.woff2': 'file', '.woff': 'file', '.ttf': 'file', '.svg': 'file', '.png': 'file' },
  outdir: dist,
  metafile: true,
  write: false,
  logLevel: 'warning',
});

const entry = Object.entries(result.metafile.outputs).find(([, output]) => output.entryPoint?.endsWith('src/main.tsx'));
if (!entry?.[1].cssBundle) throw new Error('build-console: no entry script or stylesheet in the build');
const fileName = (output: string) => path.relative(path.relative(root, dist), output).split(path.sep).join('/');
const html = readFileSync(path.join(source, 'index.html'), 'utf8')
  .replace('__SCRIPT__', fileName(entry[0]))
  .replace('__STYLE__', fileName(entry[1].cssBundle));

/** What `console/dist` must hold: file name → bytes. */
const files = new Map<string, Buffer>([['index.html', Buffer.from(html)]]);
for (const output of result.outputFiles) files.set(path.relative(dist, output.path).split(path.sep).join('/'), Buffer.from(output.contents));

if (check) {
  const present = existsSync(dist) ? readdirSync(dist, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.relative(dist, path.join(d.parentPath, d.name))) : [];
  const stale = [...files].filter(([name, bytes]) => !existsSync(path.join(dist, name)) || !readFileSync(path.join(dist, name)).equals(bytes)).map(([name]) => name);
  const extra = present.filter((name) => !files.has(name));
  if (stale.length + extra.length > 0) {
    console.error(`build-console: console/dist is stale (${[...stale, ...extra].join(', ')}): run npm run build:console`);
    process.exit(1);
  }
  console.log('build-console: console/dist is up to date');
} else {
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  for (const [name, bytes] of files) {
    mkdirSync(path.dirname(path.join(dist, name)), { recursive: true });
    writeFileSync(path.join(dist, name), bytes);
  }
  const total = [...files.values()].reduce((sum, bytes) => sum + bytes.length, 0);
  console.log(`build-console: ${files.size} files, ${(total / 1024).toFixed(0)} KiB in console/dist`);
}
