// Side-effect CSS import bundled by Vite (TypeScript checks side-effect imports: noUncheckedSideEffectImports).
declare module 'graphiql/style.css';
