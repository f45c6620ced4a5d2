/**
 * Serves the built front end (web/dist): the resident portal at /, the staff console at /console
 * and the public dashboard at /dashboard. Hashed assets are cached for a year, pages never.
 */
import fs from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

const PAGES: Record<string, string> = {
  '/': 'index.html',
  '/console': 'console/index.html',
  '/console/': 'console/index.html',
  '/dashboard': 'dashboard/index.html',
  '/dashboard/': 'dashboard/index.html',
};

/** Returns false (and serves nothing) when the front end has not been built. */
export async function registerWeb(app: FastifyInstance, distDir: string): Promise<boolean> {
  if (!fs.existsSync(path.join(distDir, 'index.html'))) {
    return false;
  }
  await app.register(fastifyStatic, {
    root: distDir,
    wildcard: false,
    index: false,
    serve: true,
    setHeaders(reply, filePath) {
      const immutable = filePath.includes(`${path.sep}assets${path.sep}`);
      reply.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  for (const [url, file] of Object.entries(PAGES)) {
    app.get(url, { config: { rateLimit: false } }, (_request, reply) => reply.sendFile(file));
  }
  return true;
}
