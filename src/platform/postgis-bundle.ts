/**
 * The PostGIS bundle the embedded database loads. The package's bundle carries PostGIS with raster,
 * topology and the TIGER geocoder, and 500 upgrade scripts; the embedded database unpacks every file
 * and compiles every library in it at each start. Machi uses PostGIS itself only, so it loads a bundle
 * of that: made once from the package's bundle, kept beside the packages, and a second faster at each
 * start (a third of the embedded database's start-up, and 45 MB less memory).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { postgis } from '@electric-sql/pglite-postgis';
import { createTar, parseTar } from 'nanotar';

type Extension = typeof postgis;

const ROOT = path.resolve(import.meta.dirname, '../..');

function packageBundle(): { file: string; version: string } {
  const dist = path.dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite-postgis')));
  const pkg = JSON.parse(fs.readFileSync(path.join(dist, '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return { file: path.join(dist, 'postgis.tar.gz'), version: pkg.version };
}

/** Which files of the package's bundle PostGIS alone needs. */
export function keepForPostgis(name: string, version: string): boolean {
  if (name.startsWith('lib/'))
    return name === 'lib/' || name === 'lib/postgresql/' || name === 'lib/postgresql/postgis-3.so';
  const extension = 'share/postgresql/extension/';
  if (name.startsWith(extension)) {
    const file = name.slice(extension.length);
    return (
      file === '' ||
      file === 'postgis.control' ||
      file === `postgis--${version}.sql` ||
      file === `postgis--ANY--${version}.sql`
    );
  }
  return true;
}

/** Makes the PostGIS-only bundle from the package's; returns the gzipped tar. */
export function slimBundle(source: Buffer): Uint8Array {
  const items = parseTar(gunzipSync(source));
  const control = items.find((i) => i.name === 'share/postgresql/extension/postgis.control');
  const version = control && /default_version\s*=\s*'([^']+)'/.exec(control.text)?.[1];
  if (!version) throw new Error('the PostGIS bundle has no postgis.control with a default_version');
  const kept = items
    .filter((i) => keepForPostgis(i.name, version))
    .map((i) => ({ name: i.name, data: i.type === 'directory' ? undefined : i.data, attrs: i.attrs }));
  if (!kept.some((i) => i.name === 'lib/postgresql/postgis-3.so')) {
    throw new Error('the PostGIS bundle has no lib/postgresql/postgis-3.so');
  }
  return gzipSync(createTar(kept), { level: 1 });
}

function writableCacheDir(): string | undefined {
  for (const dir of [
    path.join(ROOT, 'node_modules', '.cache', 'machi'),
    path.join(os.tmpdir(), 'machi-cache'),
  ]) {
    try {
      fs.mkdirSync(dir, { recursive: true });
      fs.accessSync(dir, fs.constants.W_OK);
      return dir;
    } catch {
      // next place
    }
  }
  return undefined;
}

let cached: Promise<Extension> | undefined;

/**
 * The PostGIS extension for the embedded database, loading the PostGIS-only bundle; the package's
 * own when that bundle cannot be made or kept (a read-only installation without a temporary folder).
 */
export function postgisExtension(): Promise<Extension> {
  cached ??= (async () => {
    try {
      const { file, version } = packageBundle();
      const dir = writableCacheDir();
      if (!dir) return postgis;
      const key = createHash('sha256')
        .update(`${version}:${fs.statSync(file).size}:1`)
        .digest('hex')
        .slice(0, 12);
      const slim = path.join(dir, `postgis-only-${key}.tar.gz`);
      if (!fs.existsSync(slim)) {
        // Several processes may make it at once: each writes aside, then renames.
        const tmp = `${slim}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, slimBundle(fs.readFileSync(file)));
        fs.renameSync(tmp, slim);
      }
      const bundlePath = new URL(`file://${slim}`);
      const extension: Extension = {
        name: postgis.name,
        setup: async (pg, options) => ({ ...(await postgis.setup(pg, options)), bundlePath }),
      };
      return extension;
    } catch {
      return postgis;
    }
  })();
  return cached;
}
