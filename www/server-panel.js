// The server panel: what `wechat.sessions` holds, read through the demo
// backend's GET /dev/sessions (each user's live sessions, never a token),
// revoking one user (sessions.revokeUser), and a decrypt round trip:
// WeChat's side encrypts data under the user's session_key, as it does for
// wx.getWeRunData; the page posts it to /api/decrypt, where
// sessions.decrypt uses the key the server kept. The page never sees it.
const $ = (id) => document.getElementById(id);
const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * { log, control, fetch (untapped), session(), wechatSide() }: the page's
 * timeline, its control-call helper, and getters for what exists later.
 */
export function setupServerPanel({ log, control, fetch, session, wechatSide }) {
  let shown = '';

  async function refresh() {
    const { users } = await (await fetch('/dev/sessions')).json();
    const key = JSON.stringify(users.map((u) => [u.openid, u.live]));
    if (key === shown) return users; // unchanged: keep the buttons under the pointer
    shown = key;
    $('sessions-table').innerHTML = '<tr><th>user (openid)</th><th>live</th><th></th></tr>' + users.map((u, i) =>
      `<tr data-openid="${escapeHtml(u.openid)}"><td class="who">${escapeHtml(u.openid)}${i === 0 ? ' <small>(this page)</small>' : ''}</td>` +
      `<td data-live>${u.live}</td><td><button class="small secondary" data-revoke="${escapeHtml(u.openid)}">revoke</button></td></tr>`).join('');
    return users;
  }

  $('sessions-table').onclick = async (event) => {
    const openid = event.target.dataset && event.target.dataset.revoke;
    if (!openid) return;
    await control('/dev/sessions/revoke', { openid }, `sessions.revokeUser('${openid}'): their tokens get 401 from now on`);
    await refresh();
  };

  $('other-user').onclick = async () => {
    await control('/dev/sessions/other', {}, 'another user logged in on their own device (sessions.login)');
    await refresh();
  };

  $('decrypt').onclick = async () => {
    const out = $('decrypt-out'), foreign = $('foreign').checked, s = session();
    $('decrypt').disabled = true;
    out.hidden = false;
    out.dataset.state = 'pending';
    out.textContent = 'decrypting…';
    try {
      // First a session the server accepts (a revoked one logs in again
      // here): WeChat encrypts under the session_key of the newest login.
      await s.request({ url: '/api/me' });
      const res = await window.fetch(wechatSide() + '/dev/encrypted' + (foreign ? '?foreign=1' : ''));
      const enc = await res.json();
      if (!res.ok) throw Object.assign(new Error(enc.error), { code: 'HTTP_ERROR', status: res.status });
      const r = await s.request({ url: '/api/decrypt', method: 'POST', data: enc });
      out.dataset.state = 'ok';
      out.textContent = `${JSON.stringify(r.data)}\nwatermark.appid ${r.watermark.appid}: this app ✓`;
      log('decrypt', `sessions.decrypt() → ${JSON.stringify(r.data)}; the watermark names this app`, 'good');
    } catch (err) {
      const code = (err.data && err.data.code) || err.code || 'ERROR';
      const why = `${code}${err.status ? ` (HTTP ${err.status})` : ''}${foreign && code === 'DECRYPT_FAILED' ? ': the watermark names another app' : ''}`;
      out.dataset.state = 'error';
      out.textContent = why;
      log('decrypt', 'rejected ' + why, 'bad');
    } finally {
      $('decrypt').disabled = false;
      refresh().catch(() => {});
    }
  };

  return { refresh };
}
