/** Types of pages.mjs (plain JavaScript, shared by `npm start`, vite.config.ts and the tests). */
import type { Plugin } from 'vite';

/** Vite plugin: records in `<outDir>/.inputs.json` the repository files the build read, each with its SHA-256. */
export function recordInputs(root: string): Plugin;
/**
 * Why the browser pages must be (re)built (a page or the record missing, a recorded file changed), or
 * undefined when they are up to date. `dist` @default `<root>/dist`
 */
export function pagesOutOfDate(root: string, dist?: string): string | undefined;
