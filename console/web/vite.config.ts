import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Built by scripts/setup.sh into dist/, which the console server serves; routes live in the
// URL's hash, so any path the server sends index.html for works.
export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [react()],
  // ELK's bundled layout engine is 1.5 MB of the 2.5; the console is served from loopback.
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 3000 },
});
