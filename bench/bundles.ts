import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build } from 'esbuild';

/**
 * Each Lambda bundled as CDK's NodejsFunction bundles it (a copy of infra's options, checked for drift),
 * its bytes by npm package, and the time a fresh `node` process takes to import the bundle.
 */

/** The Lambda functions, as infra/stopguard-construct.ts names their entry points. */
export const FUNCTIONS = [
  { name: 'worker', entry: 'functions/handlers/worker.ts' },
  { name: 'scheduler', entry: 'functions/handlers/scheduler.ts' },
] as const;

const INFRA_FUNCTION = 'infra/stopguard-function.ts';

/**
 * What CDK's NodejsFunction hands esbuild for the `bundling` block of infra/stopguard-function.ts:
 * `--bundle --platform=node --format=esm --target=node22 --outfile=index.mjs --minify --sourcemap
 * --sources-content=false --log-level=warning --banner:js=… --main-fields=module,main`, no
 * `--external` (bundleAwsSDK: true, externalModules: []), no tsconfig, define, loader or keep-names.
 */
export const CDK_BUNDLING: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  mainFields: ['module', 'main'],
  banner: { js: "import { createRequire } from 'module';const require = createRequire(import.meta.url);" },
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  external: [],
  logLevel: 'warning',
};

/**
 * The options above are a copy; this says where they no longer match the infra source (a changed
 * target, format, banner or flag), so a drift shows in the report instead of silently skewing it.
 */
export function bundlingDrift(): string[] {
  const source = readFileSync(INFRA_FUNCTION, 'utf8');
  const banner = CDK_BUNDLING.banner?.js ?? '';
  const expected: [string, string | RegExp][] = [
    ['format ESM', /format:\s*OutputFormat\.ESM/],
    [`target ${String(CDK_BUNDLING.target)}`, `target: '${String(CDK_BUNDLING.target)}'`],
    ["mainFields ['module', 'main']", "mainFields: ['module', 'main']"],
    ['the createRequire banner', banner],
    ['minify: true', 'minify: true'],
    ['sourceMap: true', 'sourceMap: true'],
    ['sourcesContent: false', 'sourcesContent: false'],
    ['bundleAwsSDK: true', 'bundleAwsSDK: true'],
    ['externalModules: []', 'externalModules: []'],
  ];
  const drift = expected
    .filter(([, pattern]) =>
      typeof pattern === 'string' ? !source.includes(pattern) : !pattern.test(source),
    )
    .map(([what]) => `${INFRA_FUNCTION} no longer says ${what}`);
  for (const flag of ['define', 'loader', 'keepNames', 'tsconfig', 'inject', 'footer', 'nodeModules'])
    if (new RegExp(`\\b${flag}\\s*:`).test(source))
      drift.push(`${INFRA_FUNCTION} sets ${flag}, which bench/bundles.ts does not mirror`);
  return drift;
}

export interface BundleFigures {
  readonly name: string;
  readonly file: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  /** The source map deployed beside it (NODE_OPTIONS=--enable-source-maps reads it at load). */
  readonly mapBytes: number;
  /** Output bytes by npm package (`(own code)` for the repository's sources), largest first. */
  readonly byPackage: readonly { readonly name: string; readonly bytes: number }[];
}

/** Bundles one function as CDK would, into `outDir/<name>/index.mjs`, and measures it. */
export async function bundleFunction(fn: (typeof FUNCTIONS)[number], outDir: string): Promise<BundleFigures> {
  const file = join(outDir, fn.name, 'index.mjs');
  const result = await build({ ...CDK_BUNDLING, entryPoints: [fn.entry], outfile: file, metafile: true });
  const output = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined);
  const packages = new Map<string, number>();
  for (const [path, input] of Object.entries(output?.inputs ?? {})) {
    const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? '(own code)';
    packages.set(name, (packages.get(name) ?? 0) + input.bytesInOutput);
  }
  return {
    name: fn.name,
    file,
    bytes: statSync(file).size,
    gzipBytes: gzipSync(readFileSync(file), { level: 9 }).length,
    mapBytes: statSync(`${file}.map`).size,
    byPackage: [...packages].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes),
  };
}

/** How a bundle's `import()` is timed: plain, or with the NODE_OPTIONS the stack gives the function. */
export const INIT_VARIANTS = [
  { name: 'plain', nodeOptions: '' },
  { name: 'as deployed', nodeOptions: '--enable-source-maps' },
] as const;

/**
 * Milliseconds for `await import(bundle)` in a fresh `node` process, one sample per process. The
 * handlers read their environment on the first invocation, not at import, so none is set; the
 * environment is otherwise cleared of NODE_OPTIONS (tsx's loader must not be timed with it).
 */
export function timeImport(file: string, nodeOptions: string): number {
  const script = `const t=performance.now();await import(${JSON.stringify(`file://${file}`)});process.stdout.write(String(performance.now()-t));`;
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: nodeOptions === '' ? env : { ...env, NODE_OPTIONS: nodeOptions },
  });
  const ms = Number(out);
  if (!Number.isFinite(ms)) throw new Error(`could not time the import of ${file}: ${out}`);
  return ms;
}
