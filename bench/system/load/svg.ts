// Hand-written SVG line charts (no dependency): one or more series of (x, y)
// points, linear or log y axis, legend, ticks.
export interface Series {
  name: string;
  points: [number, number][];
  dashed?: boolean;
}
export interface Chart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  logY?: boolean;
  width?: number;
  height?: number;
  hline?: { y: number; label: string };
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const step0 = (hi - lo) / n,
    mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? step0;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}
const label = (v: number): string => (Math.abs(v) >= 1000 ? `${+(v / 1000).toPrecision(3)}k` : `${+v.toPrecision(3)}`);

export function lineChart(c: Chart): string {
  const W = c.width ?? 720,
    H = c.height ?? 400,
    L = 70,
    Rm = 170,
    T = 40,
    B = 50;
  const pts = c.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!c.logY || y > 0));
  const xs = pts.map((p) => p[0]),
    ys = pts.map((p) => p[1]);
  if (c.hline) ys.push(c.hline.y);
  const x0 = Math.min(0, ...xs),
    x1 = Math.max(1, ...xs) * 1.05;
  let y0 = c.logY ? Math.min(...ys) / 1.5 : 0,
    y1 = Math.max(...ys) * (c.logY ? 1.5 : 1.1);
  if (!Number.isFinite(y0) || y0 <= 0) y0 = c.logY ? 0.01 : 0;
  if (!Number.isFinite(y1) || y1 <= y0) y1 = y0 + 1;
  const fy = (y: number): number => (c.logY ? Math.log10(y) : y);
  const px = (x: number): number => L + ((x - x0) / (x1 - x0)) * (W - L - Rm);
  const py = (y: number): number => H - B - ((fy(y) - fy(y0)) / (fy(y1) - fy(y0))) * (H - T - B);
  const o: string[] = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  o.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  o.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(c.title)}</text>`);
  for (const t of niceTicks(x0, x1)) {
    o.push(`<line x1="${px(t)}" y1="${T}" x2="${px(t)}" y2="${H - B}" stroke="#eee"/>`);
    o.push(`<text x="${px(t)}" y="${H - B + 16}" text-anchor="middle">${label(t)}</text>`);
  }
  const yt = c.logY ? niceLog(y0, y1) : niceTicks(y0, y1);
  for (const t of yt) {
    o.push(`<line x1="${L}" y1="${py(t)}" x2="${W - Rm}" y2="${py(t)}" stroke="#eee"/>`);
    o.push(`<text x="${L - 6}" y="${py(t) + 4}" text-anchor="end">${label(t)}</text>`);
  }
  o.push(`<rect x="${L}" y="${T}" width="${W - L - Rm}" height="${H - T - B}" fill="none" stroke="#333"/>`);
  o.push(`<text x="${(L + W - Rm) / 2}" y="${H - 12}" text-anchor="middle">${esc(c.xLabel)}</text>`);
  o.push(`<text transform="translate(16 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">${esc(c.yLabel)}</text>`);
  if (c.hline) {
    o.push(`<line x1="${L}" y1="${py(c.hline.y)}" x2="${W - Rm}" y2="${py(c.hline.y)}" stroke="#999" stroke-dasharray="2 3"/>`);
    o.push(`<text x="${W - Rm - 4}" y="${py(c.hline.y) - 4}" text-anchor="end" fill="#666">${esc(c.hline.label)}</text>`);
  }
  c.series.forEach((s, i) => {
    const col = COLORS[i % COLORS.length]!;
    const p = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!c.logY || y > 0)).sort((a, b) => a[0] - b[0]);
    if (p.length > 0) {
      o.push(
        `<polyline fill="none" stroke="${col}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${p.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`,
      );
      for (const [x, y] of p) o.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${col}"/>`);
    }
    const ly = T + 14 + i * 18;
    o.push(
      `<line x1="${W - Rm + 10}" y1="${ly - 4}" x2="${W - Rm + 34}" y2="${ly - 4}" stroke="${col}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    o.push(`<text x="${W - Rm + 40}" y="${ly}">${esc(s.name)}</text>`);
  });
  o.push('</svg>');
  return `${o.join('\n')}\n`;
}

function niceLog(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++)
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo && v <= hi) out.push(v);
    }
  return out;
}
