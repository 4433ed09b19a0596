#!/usr/bin/env node
// `npx stopguard …`: the operator's CLI (ops/cli/main.ts), run through tsx like every entry point here.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../ops/cli/main.ts');
process.exitCode = await runCli(process.argv.slice(2), {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  env: process.env,
});
