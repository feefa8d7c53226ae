// The burst chart as inline SVG (no libraries): API answers over time as
// cumulative steps (200 and 401 apart) and each login as a vertical marker,
// so "100 requests, one login" is something you see.
const W = 640, H = 240, L = 44, R = 14, T = 16, B = 34;
const COLORS = { ok: '#1a9b5a', unauthorized: '#d9822b', login: '#c0392b' };

function niceMax(v) {
  if (v <= 5) return 5;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((m) => m >= v);
}

const esc = (s) => String(s).replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]);

/** burst: { n, ms, api: [{ t, status }], logins: [t] } with t in ms since the burst started. */
export function drawBurst(svg, burst) {
  const tmax = Math.max(burst.ms, 1);
  const ok = burst.api.filter((a) => a.status >= 200 && a.status < 300).map((a) => a.t).sort((a, b) => a - b);
  const unauthorized = burst.api.filter((a) => a.status === 401).map((a) => a.t).sort((a, b) => a - b);
  const ymax = niceMax(Math.max(burst.n, ok.length, unauthorized.length));
  const x = (t) => (L + (Math.min(t, tmax) / tmax) * (W - L - R)).toFixed(1);
  const y = (v) => (H - B - (v / ymax) * (H - T - B)).toFixed(1);
  const steps = (times) => times.reduce((d, t, i) => d + ` H${x(t)} V${y(i + 1)}`, `M${x(0)} ${y(0)}`) + ` H${x(tmax)}`;

  const parts = [];
  for (const v of [0, ymax / 2, ymax]) {
    parts.push(`<line class="grid" x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}"/>`,
      `<text class="tick" x="${L - 6}" y="${y(v)}" text-anchor="end" dominant-baseline="middle">${v}</text>`);
  }
  [0, tmax / 2, tmax].forEach((t, i) => {
    parts.push(`<text class="tick" x="${x(t)}" y="${H - B + 16}" text-anchor="${['start', 'middle', 'end'][i]}">${Math.round(t)} ms</text>`);
  });
  parts.push(`<text class="axis" x="${L}" y="${T - 4}">responses (cumulative)</text>`);
  burst.logins.forEach((t, i) => {
    parts.push(`<line class="login" x1="${x(t)}" x2="${x(t)}" y1="${T}" y2="${H - B}" stroke="${COLORS.login}"/>`,
      `<text class="login-label" x="${+x(t) + 4}" y="${T + 12 + i * 14}" fill="${COLORS.login}">login ${i + 1}</text>`);
  });
  if (unauthorized.length) parts.push(`<path class="series" d="${steps(unauthorized)}" stroke="${COLORS.unauthorized}"/>`);
  parts.push(`<path class="series" d="${steps(ok)}" stroke="${COLORS.ok}"/>`);

  const legend = [
    [COLORS.ok, `200 OK: ${ok.length}`],
    [COLORS.unauthorized, `401 (replayed): ${unauthorized.length}`],
    [COLORS.login, `logins: ${burst.logins.length}`],
  ];
  legend.forEach(([color, label], i) => {
    const lx = L + 8 + i * 170;
    parts.push(`<rect x="${lx}" y="${H - 12}" width="10" height="10" fill="${color}"/>`,
      `<text class="legend" x="${lx + 14}" y="${H - 3}">${esc(label)}</text>`);
  });
  svg.innerHTML = parts.join('');
}
