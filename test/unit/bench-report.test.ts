import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { replaceSection, writeSection } from '#bench/report.js';

describe('replaceSection', () => {
  it('appends a section to an empty or section-less document', () => {
    expect(replaceSection('', 'soak', 'figures')).toBe(
      '<!-- bench:soak -->\nfigures\n<!-- /bench:soak -->\n',
    );
    expect(replaceSection('# Benchmarks\n', 'soak', 'x')).toBe(
      '# Benchmarks\n\n<!-- bench:soak -->\nx\n<!-- /bench:soak -->\n',
    );
  });

  it('replaces only its own section and keeps the others byte for byte', () => {
    const doc = [
      '# Benchmarks',
      '<!-- bench:core -->\nold core\n<!-- /bench:core -->',
      'prose between',
      '<!-- bench:soak -->\nold soak\n<!-- /bench:soak -->',
      'tail',
    ].join('\n');
    const updated = replaceSection(doc, 'core', 'new core\n');
    expect(updated).toContain('<!-- bench:core -->\nnew core\n<!-- /bench:core -->');
    expect(updated).not.toContain('old core');
    expect(updated).toContain('<!-- bench:soak -->\nold soak\n<!-- /bench:soak -->');
    expect(updated.startsWith('# Benchmarks\n')).toBe(true);
    expect(updated.endsWith('prose between\n<!-- bench:soak -->\nold soak\n<!-- /bench:soak -->\ntail')).toBe(
      true,
    );
    // Idempotent: writing the same figures twice changes nothing.
    expect(replaceSection(updated, 'core', 'new core')).toBe(updated);
  });

  it('does not mistake a section whose name extends another for it', () => {
    const doc = '<!-- bench:soak-burst -->\nburst\n<!-- /bench:soak-burst -->\n';
    const updated = replaceSection(doc, 'soak', 'soak');
    expect(updated).toContain('<!-- bench:soak-burst -->\nburst\n<!-- /bench:soak-burst -->');
    expect(updated).toContain('<!-- bench:soak -->\nsoak\n<!-- /bench:soak -->');
  });
});

describe('writeSection', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bench-report-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the file when it is missing', () => {
    const file = join(dir, 'BENCHMARKS.md');
    writeSection(file, 'core', '## Decision core\n\n| a | b |');
    expect(readFileSync(file, 'utf8')).toBe(
      '<!-- bench:core -->\n## Decision core\n\n| a | b |\n<!-- /bench:core -->\n',
    );
  });

  it('lets two scripts own their sections of one file: bench rewrites its own, the soak keeps its', () => {
    const file = join(dir, 'BENCHMARKS.md');
    writeFileSync(file, '# Benchmarks\n\nIntro kept as written.\n');
    writeSection(file, 'core', 'core v1');
    writeSection(file, 'soak', 'soak figures');
    writeSection(file, 'core', 'core v2');
    expect(readFileSync(file, 'utf8')).toBe(
      [
        '# Benchmarks',
        '',
        'Intro kept as written.',
        '',
        '<!-- bench:core -->',
        'core v2',
        '<!-- /bench:core -->',
        '',
        '<!-- bench:soak -->',
        'soak figures',
        '<!-- /bench:soak -->',
        '',
      ].join('\n'),
    );
  });
});
