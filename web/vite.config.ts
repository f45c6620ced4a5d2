/**
 * Builds the web shell: three HTML pages (portal, console, dashboard) sharing one layout,
 * into web/dist, which the Machi server serves as static files.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const page = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root,
  base: '/',
  publicDir: 'public',
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    rolldownOptions: {
      input: {
        portal: page('index.html'),
        console: page('console/index.html'),
        dashboard: page('dashboard/index.html'),
      },
    },
  },
  server: {
    // `npx vite --config web/vite.config.ts` next to `npm start` gives hot reload against the real API.
    proxy: { '/api': process.env.MACHI_API_ORIGIN ?? 'http://127.0.0.1:8080' },
  },
});
