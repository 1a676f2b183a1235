// bench/results/<name>-backlog.svg: each backlog figure against the backlog's size, one small panel per figure, the
// sizes on a log scale (1,000 to 50,000) and each figure on a linear one from zero, so flat means flat.
import type { BacklogPoint } from './results.js';

/** A linear map of [0, max] onto [from, to] (to < from for a y axis drawn downwards). */
export function linearScale(max: number, from: number, to: number): (value: number) => number {
  const top = max > 0 ? max : 1;
  return (value) => from + (value / top) * (to - from);
}

/** A log-10 map of [low, high] onto [from, to]; a single size sits in the middle. */
export function logScale(low: number, high: number, from: number, to: number): (value: number) => number {
  if (high <= low) return () => (from + to) / 2;
  const span = Math.log10(high / low);
  return (value) => from + (Math.log10(value / low) / span) * (to - from);
}

/** A round maximum for an axis from zero that holds `value`: 1, 2 or 5 times a power of ten. */
export function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((step) => step * power).find((nice) => nice >= value) ?? 10 * power;
}

interface Panel {
  readonly title: string;
  readonly unit: string;
  readonly value: (point: BacklogPoint) => number | undefined;
}

const panels: readonly Panel[] = [
  { title: 'submit throughput', unit: 'jobs/s', value: (p) => p.submitPerSec },
  { title: 'poll of a queued job, p99', unit: 'ms', value: (p) => p.queuedPollP99Ms },
  { title: 'list ?status=queued, p99', unit: 'ms', value: (p) => p.listP99Ms },
  { title: 'API RSS', unit: 'MB', value: (p) => p.apiRssMb },
  { title: 'worker RSS', unit: 'MB', value: (p) => p.workerRssMb },
  { title: 'database per job', unit: 'bytes', value: (p) => p.databaseBytesPerJob },
  { title: 'drain throughput', unit: 'jobs/s', value: (p) => p.drainPerSec },
];

const size = { width: 300, height: 170, left: 50, right: 14, top: 30, bottom: 34, columns: 3 };

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (char) => `&#${char.charCodeAt(0)};`);
}

export function growthChart(points: readonly BacklogPoint[], caption: string): string {
  const rows = Math.ceil(panels.length / size.columns);
  const width = size.columns * size.width;
  const height = 50 + rows * size.height;
  const sizes = points.map((point) => point.backlog);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="8" y="18" font-size="14" font-weight="600">Figures against backlog size (jobs queued, log scale)</text>`,
    `<text x="8" y="36" fill="#4b5563">${escapeXml(caption)}</text>`,
  ];
  panels.forEach((panel, index) => {
    const ox = (index % size.columns) * size.width;
    const oy = 50 + Math.floor(index / size.columns) * size.height;
    const [x0, x1] = [ox + size.left, ox + size.width - size.right];
    const [y0, y1] = [oy + size.height - size.bottom, oy + size.top];
    const values = points.flatMap((point) => {
      const value = panel.value(point);
      return value === undefined ? [] : [{ backlog: point.backlog, value }];
    });
    const top = niceMax(Math.max(0, ...values.map((v) => v.value)));
    const x = logScale(Math.min(...sizes), Math.max(...sizes), x0, x1);
    const y = linearScale(top, y0, y1);
    parts.push(
      `<text x="${ox + 8}" y="${oy + 16}" font-weight="600">${escapeXml(`${panel.title} (${panel.unit})`)}</text>`,
      `<line x1="${x0}" y1="${y0}" x2="${x1}" y2="${y0}" stroke="#9ca3af"/>`,
      `<line x1="${x0}" y1="${y0}" x2="${x0}" y2="${y1}" stroke="#9ca3af"/>`,
      `<text x="${x0 - 4}" y="${y1 + 4}" text-anchor="end" fill="#4b5563">${top}</text>`,
      `<text x="${x0 - 4}" y="${y0 + 4}" text-anchor="end" fill="#4b5563">0</text>`,
    );
    for (const backlog of sizes)
      parts.push(
        `<text x="${x(backlog).toFixed(1)}" y="${y0 + 16}" text-anchor="middle" fill="#4b5563">${backlog.toLocaleString('en-US')}</text>`,
      );
    if (values.length === 0) {
      parts.push(`<text x="${x0 + 8}" y="${(y0 + y1) / 2}" fill="#6b7280">not measured here</text>`);
      return;
    }
    parts.push(
      `<polyline fill="none" stroke="#2563eb" stroke-width="1.5" points="${values.map((v) => `${x(v.backlog).toFixed(1)},${y(v.value).toFixed(1)}`).join(' ')}"/>`,
      ...values.map(
        (v) =>
          `<circle cx="${x(v.backlog).toFixed(1)}" cy="${y(v.value).toFixed(1)}" r="3" fill="#2563eb"/><text x="${x(v.backlog).toFixed(1)}" y="${(y(v.value) - 6).toFixed(1)}" text-anchor="middle" fill="#1f2937">${v.value}</text>`,
      ),
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}
