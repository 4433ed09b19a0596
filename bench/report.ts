import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** Writes one named section of a Markdown document and leaves the rest of it as it is. */

const open = (name: string) => `<!-- bench:${name} -->`;
const close = (name: string) => `<!-- /bench:${name} -->`;

/**
 * Replaces one named section of a Markdown document (between `<!-- bench:NAME -->` and
 * `<!-- /bench:NAME -->`), or appends it when absent; everything else is kept as it is. Several
 * scripts (bench, soak, simulate) each own their section of docs/BENCHMARKS.md this way.
 */
export function replaceSection(document: string, name: string, markdown: string): string {
  const block = `${open(name)}\n${markdown.trim()}\n${close(name)}`;
  const start = document.indexOf(open(name));
  const end = document.indexOf(close(name));
  if (start >= 0 && end > start) {
    return document.slice(0, start) + block + document.slice(end + close(name).length);
  }
  const base = document.trimEnd();
  return `${base}${base.length > 0 ? '\n\n' : ''}${block}\n`;
}

/** `replaceSection` on a file, created when missing. */
export function writeSection(file: string, name: string, markdown: string): void {
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
  writeFileSync(file, replaceSection(current, name, markdown));
}
