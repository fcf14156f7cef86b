// Builds the browser pages served by the API: GraphiQL (GET /graphql from a browser) and the operator
// dashboard (GET /dashboard). `npm run build:graphiql` -> dist/graphiql/index.html, dist/dashboard/index.html,
// and their hashed files in dist/graphiql/assets/ (served at /graphiql/assets/, one folder for both pages).
// Everything is bundled locally: no CDN at run time. dist/.inputs.json records what the build read, so that
// `npm start` and the tests rebuild the pages when their sources change (scripts/pages.mjs).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { recordInputs } from './scripts/pages.mjs';

const src = (p: string) => fileURLToPath(new URL(`./src/${p}`, import.meta.url));

export default defineConfig({
  // Each page's html sits at src/<page>/index.html and lands at dist/<page>/index.html.
  root: src(''),
  base: '/',
  plugins: [react(), recordInputs(fileURLToPath(new URL('.', import.meta.url)))],
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'graphiql/assets',
    // GraphiQL + Monaco are big by nature; the page is a developer tool.
    chunkSizeWarningLimit: 8000,
    rolldownOptions: {
      input: { graphiql: src('graphiql/index.html'), dashboard: src('dashboard/index.html') },
      onwarn(warning, defaultHandler) {
        // @graphiql/react marks modules "use no memo" (a React Compiler opt-out); harmless once bundled.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE' && warning.message.includes('use no memo')) return;
        defaultHandler(warning);
      },
    },
  },
});
