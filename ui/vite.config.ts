import { defineConfig } from 'vitest/config';
import pkg from './package.json' with { type: 'json' };

// The Tauri shell embeds ui/dist (frontendDist = ../ui/dist): relative paths, no CDN, no
// module-preload polyfill, and a target that old Android System WebViews (Chrome 80+) run.
export default defineConfig({
  base: './',
  define: { __APP_VERSION__: JSON.stringify(pkg.version) },
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
  build: {
    target: ['es2020', 'chrome80', 'safari14'],
    outDir: 'dist',
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    cssTarget: ['chrome80', 'safari14'],
    reportCompressedSize: false,
  },
  server: { port: 1420, strictPort: true },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
