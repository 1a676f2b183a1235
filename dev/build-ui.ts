// `npm run build:ui`: the job dashboard (ui/) bundled by esbuild into dist/ui/ (src/api/ui.ts's dashboardDir, under
// the working directory), which the gateway serves at /ui/: index.html, app.js and app.css, no source maps.
//   node --import tsx dev/build-ui.ts
import { copyFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { dashboardDir } from '../src/api/ui.js';

const uiSources = fileURLToPath(new URL('../ui', import.meta.url));

/** Bundles the dashboard into `outDir` (default: dist/ui under the working directory), minified. */
export async function buildDashboard(outDir = resolve(dashboardDir)): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: { app: join(uiSources, 'main.tsx') },
    outdir: outDir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    legalComments: 'none',
    logLevel: 'error',
    tsconfig: join(uiSources, 'tsconfig.json'),
  });
  await copyFile(join(uiSources, 'index.html'), join(outDir, 'index.html'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await buildDashboard();
