// The production entrypoints as single files: dist/bundle/server.js (npm start) and
// dist/bundle/worker.js (npm run worker), bundled by esbuild from tsc's type-checked output in
// dist/. Loading ~60 files of ours and typebox's ~700 was a third of a start (typebox alone:
// 190 ms as files, 21 ms as one). Our code and typebox are inlined; every other package stays
// external and loads from node_modules as usual (PGlite finds its WebAssembly next to itself,
// native addons stay native).
import { build } from 'esbuild'

const INLINE = new Set(['typebox'])

const packageOf = (specifier) => (specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0])

await build({
  entryPoints: { server: 'dist/main.js', worker: 'dist/worker.js' },
  outdir: 'dist/bundle',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  plugins: [
    {
      name: 'packages-external-but-typebox',
      setup(esbuild) {
        esbuild.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('node:') || !INLINE.has(packageOf(args.path)) ? { external: true } : undefined))
      },
    },
  ],
})
