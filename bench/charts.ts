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

/**
 * A histogram: one bar per bucket, labelled below, its count above (the tail of a delay distribution
 * is a few orphans next to thousands, too short to read as a bar alone). Optionally marks quantiles.
 */
export function histogramChart(input: {
  title: string;
  xLabel: string;
  labels: readonly string[];
  counts: readonly number[];
  markers?: readonly { readonly label: string; readonly bucket: number }[];
}): string {
  const width = 760;
  const height = 350;
  const left = 60;
  const bottom = 280;
  const top = 80;
  const counts = input.counts.length > 0 ? input.counts : [0];
  const max = Math.max(1, ...counts);
  const barWidth = (width - left - 20) / counts.length;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15">${esc(input.title)}</text>`,
    `<line x1="${left}" y1="${bottom}" x2="${width - 10}" y2="${bottom}" stroke="#333"/>`,
    `<text x="${width / 2}" y="${bottom + 44}" text-anchor="middle">${esc(input.xLabel)}</text>`,
    `<text x="14" y="${(top + bottom) / 2}" transform="rotate(-90 14 ${(top + bottom) / 2})" text-anchor="middle">orphans</text>`,
  ];
  const labelEvery = Math.max(1, Math.ceil(counts.length / 16));
  counts.forEach((count, i) => {
    const h = (count / max) * (bottom - top);
    const x = left + i * barWidth;
    const centre = (x + barWidth / 2).toFixed(1);
    const label = input.labels[i] ?? String(i);
    parts.push(
      `<rect x="${x.toFixed(1)}" y="${(bottom - h).toFixed(1)}" width="${Math.max(1, barWidth - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="#2980b9"><title>${esc(label)}: ${count}</title></rect>`,
    );
    if (count > 0)
      parts.push(
        `<text x="${centre}" y="${(bottom - h - 4).toFixed(1)}" text-anchor="middle" font-size="10">${count.toLocaleString('en')}</text>`,
      );
    if (i % labelEvery === 0)
      parts.push(`<text x="${centre}" y="${bottom + 16}" text-anchor="middle">${esc(label)}</text>`);
  });
  (input.markers ?? []).forEach((marker, m) => {
    const x = left + (marker.bucket + 0.5) * barWidth;
    const y = 46 + m * 14;
    parts.push(
      `<line x1="${x.toFixed(1)}" y1="${y - 10}" x2="${x.toFixed(1)}" y2="${bottom}" stroke="#c0392b" stroke-dasharray="4 3"/>`,
      `<text x="${(x + 4).toFixed(1)}" y="${y}" fill="#c0392b">${esc(marker.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
