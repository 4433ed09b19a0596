import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The house rules, checked on every file, so that they hold after the next change too:
 * - dependencies point down only: core ← contracts ← ports ← orchestration ← adapters ← handlers,
 *   then local/ and infra/ above functions/, bench/ above local/; an adapter family (bybit, dynamodb,
 *   memory, …) does not import another;
 * - a source file stays under ~400 lines, or says in its opening comment why it is longer.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const AREAS = ['functions', 'infra', 'local', 'bench', 'ops', 'test'] as const;
const ALIASES: Record<string, string> = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).imports;

/** Lower is deeper; a module may import only from its own rank or below (and never a sibling family). */
const FUNCTION_LAYERS = ['core', 'contracts', 'ports', 'orchestration', 'adapters', 'handlers'] as const;
const rank = (path: string): number => {
  const [area, layer] = path.split('/');
  if (area === 'functions') return FUNCTION_LAYERS.indexOf(layer as (typeof FUNCTION_LAYERS)[number]);
  return { local: 10, infra: 10, ops: 11, bench: 12, test: 20 }[area ?? ''] ?? 99;
};

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'fixtures') return [];
    if (statSync(join(ROOT, path)).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** The repository path a specifier in `file` points at (aliases and relative paths), or undefined for a package. */
function target(file: string, specifier: string): string | undefined {
  if (specifier.startsWith('.')) return normalize(join(dirname(file), specifier));
  if (!specifier.startsWith('#')) return undefined;
  for (const [pattern, folder] of Object.entries(ALIASES)) {
    const prefix = pattern.replace('*', '');
    if (specifier.startsWith(prefix))
      return normalize(folder.replace('*', '') + specifier.slice(prefix.length));
  }
  throw new Error(`${file}: no alias for ${specifier}`);
}

const files = AREAS.flatMap((area) => sourceFiles(area));
const importsOf = (file: string): string[] =>
  [...readFileSync(join(ROOT, file), 'utf8').matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].flatMap((m) => {
    const to = m[1] === undefined ? undefined : target(file, m[1]);
    return to === undefined ? [] : [relative('.', to)];
  });

describe('the house rules', () => {
  it('has no import that runs up a layer, or across adapter families, or from local/ and infra/ into each other', () => {
    const upward: string[] = [];
    for (const file of files) {
      for (const to of importsOf(file)) {
        const family = (path: string) =>
          path.startsWith('functions/adapters/') ? path.split('/')[2] : undefined;
        const across = family(file) !== undefined && family(to) !== undefined && family(file) !== family(to);
        const sideways = rank(file) === 10 && rank(to) === 10 && file.split('/')[0] !== to.split('/')[0];
        if (rank(to) > rank(file) || across || sideways) upward.push(`${file} → ${to}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('keeps every file under ~400 lines unless its opening comment says why it is longer', () => {
    const long = files.filter((file) => {
      const text = readFileSync(join(ROOT, file), 'utf8');
      if (text.split('\n').length <= 420) return false;
      // The opening comment, its line breaks and leading asterisks folded into spaces.
      const opening = text.slice(0, 1_500).replace(/\s*\n\s*\*?\s*/g, ' ');
      return !/longer than 400 lines/i.test(opening);
    });
    expect(long).toEqual([]);
  });

  it('finds the files it judges (a rule over nothing would pass for ever)', () => {
    expect(files.filter((f) => f.startsWith('functions/core/')).length).toBeGreaterThan(5);
    expect(importsOf('functions/orchestration/confirmation-pass.ts')).toContain(
      'functions/core/confirmation.ts'.replace('.ts', '.js'),
    );
  });
});
