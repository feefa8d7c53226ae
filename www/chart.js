// The burst chart as inline SVG (no libraries): API answers over time as
// cumulative steps (200 and 401 apart), requests that rejected without an
// answer as a third step line, and vertical markers for each wx.login, each
// token that arrived and each login that failed, so "100 requests, one
// login" is something you see, and so is "20 requests, one failed login".
//
// The viewBox is the element's own size in CSS pixels, redrawn on resize,
// so an 11 px label is 11 px on a phone too (a fixed 640-wide viewBox
// scaled down to 330 px made them 5.5 px).
const COLORS = { ok: '#1a9b5a', unauthorized: '#d9822b', rejected: '#c0392b', login: '#2c6fbb', token: '#1d2321', failed: '#c0392b' };

function niceMax(v, min = 5, steps = [1, 2, 2.5, 5, 10]) {
  if (v <= min) return min;
  const p = 10 ** Math.floor(Math.log10(v));
  return steps.map((m) => m * p).find((m) => m >= v);
}

const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const ms = (t) => Math.round(t) + ' ms';

/**
 * burst: { n, ms, api: [{ t, status }], results: [{ t, ok, code }],
 *   logins: [{ t, codeAt }], tokens: [t], loginFailures: [{ t, why }] }
 * with t in ms since the burst started. legend: an element for the key.
 */
export function drawBurst(svg, legend, burst) {
  const W = Math.max(260, Math.round(svg.getBoundingClientRect().width) || 640);
  const H = W < 480 ? 200 : 240, L = 40, R = 12, T = 18, B = 24;
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('height', H);
  const results = burst.results || [];
  const logins = burst.logins || [], tokens = burst.tokens || [], failures = burst.loginFailures || [];
  // A round time axis with room after the last event, so what happens at
  // the very end (every request rejecting at once) is not drawn on the edge;
  // finer steps than the count axis, so a 1.5 s burst ends at 1.6 s, not 2 s.
  const tmax = niceMax(burst.ms * 1.04, 10, [1, 1.2, 1.4, 1.6, 1.8, 2, 2.5, 3, 3.5, 4, 5, 6, 7, 8, 9, 10]);
  const times = (pred, list) => list.filter(pred).map((a) => a.t).sort((a, b) => a - b);
  const ok = times((a) => a.status >= 200 && a.status < 300, burst.api);
  const unauthorized = times((a) => a.status === 401, burst.api);
  const rejected = times((r) => !r.ok, results);
  const ymax = niceMax(Math.max(burst.n, ok.length, unauthorized.length, rejected.length));
  const x = (t) => (L + (Math.min(Math.max(t, 0), tmax) / tmax) * (W - L - R)).toFixed(1);
  const y = (v) => (H - B - (v / ymax) * (H - T - B)).toFixed(1);
  const steps = (ts) => ts.reduce((d, t, i) => d + ` H${x(t)} V${y(i + 1)}`, `M${x(0)} ${y(0)}`) + ` H${x(burst.ms)}`;

  const parts = [];
  for (const v of [0, ymax / 2, ymax]) {
    parts.push(`<line class="grid" x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}"/>`,
      `<text class="tick" x="${L - 6}" y="${y(v)}" text-anchor="end" dominant-baseline="middle">${v}</text>`);
  }
  [0, tmax / 2, tmax].forEach((t, i) => {
    parts.push(`<text class="tick" x="${x(t)}" y="${H - B + 16}" text-anchor="${['start', 'middle', 'end'][i]}">${ms(t)}</text>`);
  });
  parts.push(`<text class="axis" x="${L}" y="${T - 6}">requests (cumulative)</text>`);

  // Markers, each label on its own row so close ones never overlap; a label
  // with no room on the right of its line reads leftwards (~6.6 px a
  // character at 11 px bold) so it stays inside the chart.
  const markers = [
    ...logins.map((l) => ({ cls: 'login', t: l.t, color: COLORS.login, label: 'wx.login' })),
    ...tokens.map((t) => ({ cls: 'token', t, color: COLORS.token, label: 'token ready ' + ms(t) })),
    ...failures.map((f) => ({ cls: 'login-failed', t: f.t, color: COLORS.failed, label: 'login failed' + (f.why ? ' (' + f.why + ')' : '') })),
  ].sort((a, b) => a.t - b.t);
  markers.forEach((m, i) => {
    const mx = +x(m.t), left = mx + 4 + m.label.length * 6.6 > W - R;
    parts.push(`<line class="marker ${m.cls}" x1="${mx}" x2="${mx}" y1="${T}" y2="${H - B}" stroke="${m.color}"/>`,
      `<text class="marker-label ${m.cls}" x="${mx + (left ? -4 : 4)}" y="${T + 12 + (i % 4) * 14}" text-anchor="${left ? 'end' : 'start'}" fill="${m.color}">${esc(m.label)}</text>`);
  });
  if (burst.empty) {
    parts.push(`<text class="axis" x="${(L + W - R) / 2}" y="${(T + H - B) / 2}" text-anchor="middle">no burst yet</text>`);
    svg.innerHTML = parts.join('');
    legend.innerHTML = '';
    return;
  }
  if (unauthorized.length) parts.push(`<path class="series unauthorized" d="${steps(unauthorized)}" stroke="${COLORS.unauthorized}"/>`);
  if (rejected.length) parts.push(`<path class="series rejected" d="${steps(rejected)}" stroke="${COLORS.rejected}"/>`);
  if (ok.length) parts.push(`<path class="series ok" d="${steps(ok)}" stroke="${COLORS.ok}"/>`);
  svg.innerHTML = parts.join('');

  const codes = {};
  for (const r of results) if (!r.ok) codes[r.code] = (codes[r.code] || 0) + 1;
  const why = Object.entries(codes).map(([c, k]) => `${k} × ${c}`).join(', ');
  const tokenText = tokens.length ? `token ready at ${tokens.map(ms).join(', ')}`
    : failures.length ? 'no token: the login failed' : logins.length ? 'token ready: —' : 'token ready: — (no login needed)';
  const keys = [
    ['ok', 'swatch', COLORS.ok, `200 OK: ${ok.length}`, ok.length],
    ['unauthorized', 'swatch', COLORS.unauthorized, `401: ${unauthorized.length}${unauthorized.length && !rejected.length ? ', each replayed after the re-login' : ''}`, unauthorized.length],
    ['rejected', 'swatch', COLORS.rejected, `rejected: ${rejected.length}${why ? ' (' + why + ')' : ''}`, rejected.length],
    ['login', 'dashed', COLORS.login, `wx.login: ${logins.length}`, logins.length],
    ['token', 'solid', COLORS.token, tokenText, tokens.length],
  ];
  legend.innerHTML = keys.map(([key, kind, color, text, count]) =>
    `<li class="${key}${count ? '' : ' zero'}" data-key="${key}" data-count="${count}"><i class="${kind}" style="--c:${color}"></i>${esc(text)}</li>`).join('');
}
