// The home page loads four panels at once in onLoad. On a cold start no one
// is logged in yet, so all four race the login; the session makes them share
// one wx.login and one code exchange, then sends each with the token.
const api = require('../../utils/api');

const PANELS = [
  { key: 'profile', title: 'Profile', url: '/api/profile' },
  { key: 'orders', title: 'Orders', url: '/api/orders', data: { page: 1 } },
  { key: 'cart', title: 'Cart', url: '/api/cart' },
  { key: 'notices', title: 'Notices', url: '/api/notices' },
];

function freshItems(status) {
  return PANELS.map(function (p) {
    return { key: p.key, title: p.title, url: p.url, status: status, code: '', detail: '' };
  });
}

function brief(body) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return text && text.length > 60 ? text.slice(0, 57) + '...' : String(text);
}

Page({
  data: {
    state: 'anonymous',
    loading: false,
    summary: '',
    items: freshItems('idle'),
  },

  onLoad() {
    const page = this;
    api.session().then(function (session) {
      page.setData({ state: session.state });
      page._unsubscribe = session.onChange(function (state) {
        page.setData({ state: state });
      });
    }, function (err) {
      page.setData({ summary: 'wxsession could not start: ' + err.message });
    });
    // Returned so a test or demo can wait for it; WeChat ignores it.
    return this.refresh();
  },

  onUnload() {
    if (this._unsubscribe) this._unsubscribe();
  },

  onPullDownRefresh() {
    this.refresh().then(function () {
      wx.stopPullDownRefresh();
    });
  },

  onReload() {
    this.refresh();
  },

  onLogout() {
    const page = this;
    return api.logout().then(function () {
      page.setData({ items: freshItems('idle'), summary: 'logged out' });
    });
  },

  // Fires every panel's request at the same time (no awaiting one before the
  // next) and resolves to true when all of them loaded.
  refresh() {
    const page = this;
    page.setData({ loading: true, summary: '', items: freshItems('loading') });
    return Promise.all(PANELS.map(function (panel, i) {
      const at = 'items[' + i + ']';
      return api.request({ url: panel.url, data: panel.data }).then(function (body) {
        page.setData({ [at + '.status']: 'ok', [at + '.detail']: brief(body) });
        return true;
      }, function (err) {
        // err.code is the stable part (EXCHANGE_FAILED, HTTP_ERROR, ...);
        // wxsession's messages already start with it.
        page.setData({ [at + '.status']: 'error', [at + '.code']: err.code || 'ERROR', [at + '.detail']: err.message });
        return false;
      });
    })).then(function (oks) {
      const failed = oks.filter(function (ok) { return !ok; }).length;
      page.setData({
        loading: false,
        summary: failed ? failed + ' of ' + oks.length + ' failed' : 'all ' + oks.length + ' loaded',
      });
      return failed === 0;
    });
  },
});
