import { defineConfig } from 'vitest/config';

// The dev server proxies the API so the session cookie stays same-origin, as it is when the
// flowpilot binary serves the built files itself.
const apiTarget = process.env.FLOWPILOT_API ?? 'http://127.0.0.1:8091';

export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    // Keeps the CSP-friendly output: no inline module preload polyfill script.
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      onwarn(warning, warn) {
        // @xyflow/react marks itself "use client" for server-rendering frameworks; meaningless here.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
  server: {
    proxy: {
      '/api': { target: apiTarget, changeOrigin: false },
    },
  },
  preview: {
    proxy: {
      '/api': { target: apiTarget, changeOrigin: false },
    },
    // The policy the flowpilot server sends with the UI, so a preview shows any violation.
    headers: {
      'Content-Security-Policy':
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test-setup.ts'],
  },
});
