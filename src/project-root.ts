/**
 * The fhirgraph checkout (or installed package) this code runs from: the directory of its
 * `package.json`, found from this module's own location rather than the working directory, so
 * that `npx fhirgraph …` run from a subfolder finds the same `DATA_DIR` as `npm start`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package name that marks the project root. */
const PACKAGE_NAME = 'fhirgraph';

let ownRoot: string | undefined;

/**
 * The nearest directory at or above `from` whose `package.json` is fhirgraph's (by default, from
 * this file's directory, looked up once); throws when there is none, which would mean a broken install.
 */
export function findProjectRoot(from?: string): string {
  if (from === undefined) return (ownRoot ??= findProjectRoot(path.dirname(fileURLToPath(import.meta.url))));
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && isFhirgraph(manifest)) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no ${PACKAGE_NAME} package.json at or above ${from}`);
  }
}

function isFhirgraph(manifest: string): boolean {
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME;
  } catch {
    return false;
  }
}
