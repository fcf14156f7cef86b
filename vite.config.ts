// Builds the GraphiQL page served by the API at GET /graphql (browser) and /graphiql/* (assets).
// `npm run build:graphiql` -> dist/graphiql. Everything is bundled locally: no CDN at run time.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  root: fileURLToPath(new URL('./src/graphiql', import.meta.url)),
  base: '/graphiql/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('./dist/graphiql', import.meta.url)),
    emptyOutDir: true,
    // GraphiQL + Monaco are big by nature; the page is a developer tool.
    chunkSizeWarningLimit: 8000,
    rolldownOptions: {
      onwarn(warning, defaultHandler) {
        // @graphiql/react marks modules "use no memo" (a React Compiler opt-out); harmless once bundled.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE' && warning.message.includes('use no memo')) return;
        defaultHandler(warning);
      },
    },
  },
});
