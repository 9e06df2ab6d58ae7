// Plots for the ART benchmark: an ASCII chart for the terminal and a small
// self-contained SVG for bench/results (no dependencies).

export interface Series {
  name: string;
  xs: number[];
  ys: number[];
}

export function asciiPlot(series: Series[], width = 72, height = 16, yLabel = 'MiB'): string {
  const all = series.flatMap((s) => s.ys);
  const xsAll = series.flatMap((s) => s.xs);
  const yMax = Math.max(...all) * 1.05 || 1;
  const xMax = Math.max(...xsAll) || 1;
  const grid: string[][] = Array.from({ length: height }, () => Array<string>(width).fill(' '));
  const marks = ['#', '.', '+', 'o'];
  series.forEach((s, si) => {
    for (let i = 0; i < s.xs.length; i++) {
      const c = Math.min(width - 1, Math.round((s.xs[i] / xMax) * (width - 1)));
      const r = height - 1 - Math.min(height - 1, Math.round((s.ys[i] / yMax) * (height - 1)));
      if (grid[r][c] === ' ' || si === 0) grid[r][c] = marks[si % marks.length];
    }
  });
  const lines = grid.map((row, r) => {
    const y = yMax * (1 - r / (height - 1));
    return `${y.toFixed(1).padStart(8)} ${yLabel} |${row.join('')}`;
  });
  lines.push(`${' '.repeat(13)}+${'-'.repeat(width)}`);
  lines.push(`${' '.repeat(14)}0${' '.repeat(width - 10)}${xMax.toLocaleString('en-US')}`);
  lines.push(`  ${series.map((s, i) => `${marks[i % marks.length]} ${s.name}`).join('   ')}`);
  return lines.join('\n');
}

export function svgPlot(series: Series[], title: string, xLabel: string, yLabel: string): string {
  const W = 720;
  const H = 360;
  const L = 70;
  const R = 20;
  const T = 40;
  const B = 50;
  const yMax = Math.max(...series.flatMap((s) => s.ys)) * 1.1 || 1;
  const xMax = Math.max(...series.flatMap((s) => s.xs)) || 1;
  const px = (x: number): number => L + (x / xMax) * (W - L - R);
  const py = (y: number): number => H - B - (y / yMax) * (H - T - B);
  const colors = ['#c0392b', '#2471a3', '#27ae60', '#8e44ad'];
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${title}</text>`);
  out.push(`<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`);
  out.push(`<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`);
  for (let i = 0; i <= 5; i++) {
    const y = (yMax * i) / 5;
    out.push(`<line x1="${L - 4}" y1="${py(y)}" x2="${W - R}" y2="${py(y)}" stroke="#ddd"/>`);
    out.push(`<text x="${L - 8}" y="${py(y) + 4}" text-anchor="end">${y.toFixed(1)}</text>`);
    const x = (xMax * i) / 5;
    out.push(`<text x="${px(x)}" y="${H - B + 18}" text-anchor="middle">${Math.round(x).toLocaleString('en-US')}</text>`);
  }
  out.push(`<text x="${W / 2}" y="${H - 10}" text-anchor="middle">${xLabel}</text>`);
  out.push(`<text x="16" y="${H / 2}" transform="rotate(-90 16 ${H / 2})" text-anchor="middle">${yLabel}</text>`);
  series.forEach((s, si) => {
    const pts = s.xs.map((x, i) => `${px(x).toFixed(1)},${py(s.ys[i]).toFixed(1)}`).join(' ');
    out.push(`<polyline fill="none" stroke="${colors[si % colors.length]}" stroke-width="1.5" points="${pts}"/>`);
    out.push(`<text x="${L + 10 + si * 200}" y="${T - 6}" fill="${colors[si % colors.length]}">${s.name}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
