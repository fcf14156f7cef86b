#!/usr/bin/env node
// The `longrun` command: runs the TypeScript CLI (cli/main.ts) through tsx, in this process.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
