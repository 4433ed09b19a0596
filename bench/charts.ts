/** Small hand-written SVG charts for docs/BENCHMARKS.md: no plotting dependency for two pictures. */

const COLOURS = ['#c0392b', '#e67e22', '#27ae60', '#2980b9'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Grouped bars on a log-ish scale (zero shown as a labelled zero, since stopguard's bars are zero). */
export function barChart(input: {
  title: string;
  groups: readonly string[];
  series: readonly { name: string; values: readonly number[] }[];
}): string {
  const width = 760;
  const height = 360;
  const left = 60;
  const bottom = 300;
  const top = 50;
  const max = Math.max(1, ...input.series.flatMap((s) => s.values));
  const scale = (v: number) => (v <= 0 ? 0 : (Math.log10(v + 1) / Math.log10(max + 1)) * (bottom - top));
  const groupWidth = (width - left - 20) / input.groups.length;
  const barWidth = (groupWidth - 30) / input.series.length;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15">${esc(input.title)}</text>`,
    `<line x1="${left}" y1="${bottom}" x2="${width - 10}" y2="${bottom}" stroke="#333"/>`,
    `<text x="14" y="${(top + bottom) / 2}" transform="rotate(-90 14 ${(top + bottom) / 2})" text-anchor="middle">false cancels (log scale)</text>`,
  ];
  input.groups.forEach((group, g) => {
    const x0 = left + g * groupWidth + 15;
    input.series.forEach((series, s) => {
      const value = series.values[g] ?? 0;
      const h = scale(value);
      const x = x0 + s * barWidth;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${(bottom - h).toFixed(1)}" width="${(barWidth - 4).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLOURS[s % COLOURS.length]}"/>`,
        `<text x="${(x + (barWidth - 4) / 2).toFixed(1)}" y="${(bottom - h - 4).toFixed(1)}" text-anchor="middle">${value.toLocaleString('en')}</text>`,
      );
    });
    parts.push(
      `<text x="${(x0 + (groupWidth - 30) / 2).toFixed(1)}" y="${bottom + 18}" text-anchor="middle">${esc(group)} drops</text>`,
    );
  });
  input.series.forEach((series, s) => {
    const x = left + s * 150;
    parts.push(
      `<rect x="${x}" y="${height - 28}" width="14" height="14" fill="${COLOURS[s % COLOURS.length]}"/>`,
      `<text x="${x + 20}" y="${height - 16}">${esc(series.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** A histogram of counts per integer bucket (index = bucket). */
export function histogramChart(input: { title: string; xLabel: string; counts: readonly number[] }): string {
  const width = 760;
  const height = 320;
  const left = 60;
  const bottom = 260;
  const top = 50;
  const counts = input.counts.length > 0 ? input.counts : [0];
  const max = Math.max(1, ...counts);
  const barWidth = (width - left - 20) / counts.length;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15">${esc(input.title)}</text>`,
    `<line x1="${left}" y1="${bottom}" x2="${width - 10}" y2="${bottom}" stroke="#333"/>`,
    `<text x="${width / 2}" y="${bottom + 40}" text-anchor="middle">${esc(input.xLabel)}</text>`,
    `<text x="14" y="${(top + bottom) / 2}" transform="rotate(-90 14 ${(top + bottom) / 2})" text-anchor="middle">orphans</text>`,
  ];
  const labelEvery = Math.max(1, Math.ceil(counts.length / 20));
  counts.forEach((count, i) => {
    const h = (count / max) * (bottom - top);
    const x = left + i * barWidth;
    parts.push(
      `<rect x="${x.toFixed(1)}" y="${(bottom - h).toFixed(1)}" width="${Math.max(1, barWidth - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="#2980b9"><title>${i} cycles: ${count}</title></rect>`,
    );
    if (i % labelEvery === 0)
      parts.push(
        `<text x="${(x + barWidth / 2).toFixed(1)}" y="${bottom + 16}" text-anchor="middle">${i}</text>`,
      );
  });
  parts.push(`<text x="${left - 6}" y="${top + 4}" text-anchor="end">${max.toLocaleString('en')}</text>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
