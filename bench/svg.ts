// bench/results/latest.svg: one row per latency distribution on a shared log-scale axis — a thin line from
// min to max, a bar from p50 to p99, a dot at p50 — so tails compare at a glance.
import type { Distribution } from './results.js';
import { summarize } from './stats.js';

const colours: Record<Distribution['side'], string> = { gateway: '#2563eb', bare: '#ea580c', floor: '#6b7280' };
const sideNames: Record<Distribution['side'], string> = {
  gateway: 'through the gateway',
  bare: 'bare Temporal client',
  floor: 'HTTP floor',
};

const layout = { labelWidth: 270, plotWidth: 400, valueWidth: 150, top: 56, rowHeight: 24, axisHeight: 44 };

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (char) => `&#${char.charCodeAt(0)};`);
}

function format(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

function tickLabel(ms: number): string {
  return ms >= 1000 ? `${ms / 1000} s` : ms >= 1 ? String(ms) : ms.toFixed(1);
}

/** 1, 2 and 5 times each power of ten from `low` to `high`. */
function ticks(low: number, high: number): number[] {
  const values: number[] = [];
  for (let power = low; power <= high * 1.0001; power *= 10) {
    for (const step of [1, 2, 5]) if (power * step <= high * 1.0001) values.push(power * step);
  }
  return values;
}

export function latencyChart(distributions: readonly Distribution[], caption: string): string {
  const { labelWidth, plotWidth, valueWidth, top, rowHeight, axisHeight } = layout;
  const width = labelWidth + plotWidth + valueWidth;
  const rows = distributions
    .filter((distribution) => distribution.samplesMs.length > 0)
    .map((d) => ({ ...d, summary: summarize(d.samplesMs) }));
  const height = top + Math.max(1, rows.length) * rowHeight + axisHeight;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="8" y="18" font-size="14" font-weight="600">Latency distributions (ms, log scale)</text>`,
    `<text x="8" y="36" fill="#4b5563">${escapeXml(caption)}</text>`,
  ];
  if (rows.length === 0) {
    parts.push(`<text x="8" y="${top + 16}">No latency scenario ran.</text>`, '</svg>');
    return parts.join('\n');
  }

  const low = 10 ** Math.floor(Math.log10(Math.max(0.1, Math.min(...rows.map((row) => row.summary.min)))));
  const high = 10 ** Math.ceil(Math.log10(Math.max(...rows.map((row) => row.summary.max))));
  const x = (ms: number): number =>
    labelWidth + (Math.log10(Math.max(ms, low) / low) / Math.log10(high / low)) * plotWidth;
  const axisY = top + rows.length * rowHeight;

  for (const tick of ticks(low, high)) {
    const major = Math.log10(tick) % 1 === 0;
    parts.push(
      `<line x1="${x(tick).toFixed(1)}" y1="${top - 6}" x2="${x(tick).toFixed(1)}" y2="${axisY}" stroke="${major ? '#d1d5db' : '#f3f4f6'}"/>`,
      `<text x="${x(tick).toFixed(1)}" y="${axisY + 16}" text-anchor="middle" fill="#4b5563">${tickLabel(tick)}</text>`,
    );
  }
  rows.forEach((row, index) => {
    const y = top + index * rowHeight + rowHeight / 2;
    const colour = colours[row.side];
    const s = row.summary;
    parts.push(
      `<text x="${labelWidth - 10}" y="${y + 4}" text-anchor="end">${escapeXml(row.label)}</text>`,
      `<line x1="${x(s.min).toFixed(1)}" y1="${y}" x2="${x(s.max).toFixed(1)}" y2="${y}" stroke="${colour}" stroke-width="1.5"/>`,
      `<rect x="${x(s.p50).toFixed(1)}" y="${y - 6}" width="${Math.max(1, x(s.p99) - x(s.p50)).toFixed(1)}" height="12" fill="${colour}" fill-opacity="0.35" stroke="${colour}"/>`,
      `<circle cx="${x(s.p50).toFixed(1)}" cy="${y}" r="4" fill="${colour}"/>`,
      `<text x="${labelWidth + plotWidth + 10}" y="${y + 4}" fill="#374151">p50 ${format(s.p50)} · p99 ${format(s.p99)}</text>`,
    );
  });
  const legend = (['gateway', 'bare', 'floor'] as const).filter((side) => rows.some((row) => row.side === side));
  legend.forEach((side, index) => {
    const lx = labelWidth + index * 150;
    parts.push(
      `<circle cx="${lx + 5}" cy="${axisY + 34}" r="4" fill="${colours[side]}"/>`,
      `<text x="${lx + 14}" y="${axisY + 38}" fill="#374151">${sideNames[side]}</text>`,
    );
  });
  parts.push(`<text x="8" y="${axisY + 38}" fill="#6b7280">dot p50 · bar to p99 · line min–max</text>`, '</svg>');
  return parts.join('\n');
}
