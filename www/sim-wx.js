// A stand-in for WeChat's JS-SDK (jweixin) inside the H5 WebView. wx.config
// has the playground server check the signature against the fake WeChat's
// current jsapi_ticket, for the URL the simulated platform validates: iOS
// the URL the page was entered with (history.pushState does not change it),
// Android the current one. Like jweixin it answers asynchronously: wx.ready
// callbacks queue until a config succeeds (and run at once after that);
// wx.error holds one handler, called with {errMsg} when a config fails.
const LANDING = location.href.split('#')[0];
const FIELDS = ['debug', 'appId', 'timestamp', 'nonceStr', 'signature', 'jsApiList', 'openTagList'];

/** platform(): 'ios' | 'android', read at each wx.config. */
export function createSimWx({ platform, verifyUrl = '/dev/jssdk/verify' }) {
  let state = 'idle', failure = null, readyQueue = [], onError = null, generation = 0, lastChecked = null;
  const checkedUrl = () => (platform() === 'ios' ? LANDING : location.href.split('#')[0]);

  function finish(g, errMsg) {
    if (g !== generation) return; // superseded by a later wx.config
    if (errMsg) {
      state = 'failed';
      failure = { errMsg };
      if (onError) onError(failure);
      return;
    }
    state = 'ready';
    const queued = readyQueue;
    readyQueue = [];
    queued.forEach((fn) => fn());
  }

  return {
    landingUrl: LANDING,
    checkedUrl,
    // What the last wx.config was checked against: real WeChat only says
    // "invalid signature", the playground can say for which URL.
    get lastCheckedUrl() { return lastChecked; },
    config(cfg) {
      const g = ++generation;
      state = 'pending';
      failure = null;
      const extra = Object.keys(cfg || {}).filter((k) => FIELDS.indexOf(k) < 0);
      if (extra.length) return void setTimeout(() => finish(g, 'config:unexpected field ' + extra.join(',')), 0);
      lastChecked = checkedUrl();
      const body = JSON.stringify({ appId: cfg.appId, timestamp: cfg.timestamp, nonceStr: cfg.nonceStr, signature: cfg.signature, url: lastChecked });
      fetch(verifyUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
        .then((res) => res.json())
        .then((r) => finish(g, r.ok ? null : r.errMsg || 'config:fail'), (err) => finish(g, 'config:fail ' + err.message));
    },
    ready(fn) {
      if (state === 'ready') setTimeout(fn, 0);
      else readyQueue.push(fn);
    },
    error(fn) {
      onError = fn;
      if (state === 'failed') {
        const f = failure;
        setTimeout(() => fn(f), 0);
      }
    },
  };
}
