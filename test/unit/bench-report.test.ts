import { describe, expect, it } from 'vitest';
import { replaceSection } from '../../bench/report.js';

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
});
