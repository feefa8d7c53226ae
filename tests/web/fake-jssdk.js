// A strict stand-in for WeChat's JS-SDK (jweixin) inside the H5 WebView.
// wx.config recomputes the signature the way WeChat does, against the URL
// the simulated platform validates: iOS the URL the page was entered with
// (a pushState does not change it), Android the current one. Like the real
// SDK it answers asynchronously: wx.ready callbacks queue until a config
// succeeds (and run at once after that), wx.error holds one handler, called
// with {errMsg} when the config fails (or at once if it already has).
(function () {
  var LANDING = location.href.split('#')[0];
  var KEYS = ['debug', 'appId', 'timestamp', 'nonceStr', 'signature', 'jsApiList', 'openTagList'];

  function sha1hex(text) {
    return crypto.subtle.digest('SHA-1', new TextEncoder().encode(text)).then(function (buf) {
      return Array.from(new Uint8Array(buf), function (b) { return b.toString(16).padStart(2, '0'); }).join('');
    });
  }

  function problem(cfg, appId) {
    if (!cfg || typeof cfg !== 'object') return 'config:invalid arguments';
    var extra = Object.keys(cfg).filter(function (k) { return KEYS.indexOf(k) < 0; });
    if (extra.length) return 'config:unexpected field ' + extra.join(',');
    if (cfg.appId !== appId) return 'config:invalid appid';
    if (typeof cfg.nonceStr !== 'string' || typeof cfg.signature !== 'string') return 'config:invalid arguments';
    if (typeof cfg.timestamp !== 'number' && typeof cfg.timestamp !== 'string') return 'config:invalid arguments';
    if (!Array.isArray(cfg.jsApiList) || typeof cfg.debug !== 'boolean') return 'config:invalid arguments';
    return null;
  }

  /** platform 'ios' | 'android'; silent: never fire ready or error. */
  window.createFakeWx = function (options) {
    var ticket = options.ticket, appId = options.appId, platform = options.platform || 'android', silent = !!options.silent;
    var state = 'idle', failure = null, readyQueue = [], onError = null, generation = 0;
    var log = { configs: [] };
    function finish(g, errMsg) {
      if (g !== generation) return; // superseded by a later wx.config
      if (errMsg) {
        state = 'failed';
        failure = { errMsg: errMsg };
        if (onError) onError(failure);
        return;
      }
      state = 'ready';
      var queued = readyQueue;
      readyQueue = [];
      queued.forEach(function (fn) { fn(); });
    }
    return {
      log: log,
      config: function (cfg) {
        var g = ++generation;
        state = 'pending';
        failure = null;
        var url = platform === 'ios' ? LANDING : location.href.split('#')[0];
        log.configs.push({ cfg: JSON.parse(JSON.stringify(cfg)), url: url });
        if (silent) return;
        var bad = problem(cfg, appId);
        setTimeout(function () {
          if (bad) return finish(g, bad);
          var text = 'jsapi_ticket=' + ticket + '&noncestr=' + cfg.nonceStr + '&timestamp=' + cfg.timestamp + '&url=' + url;
          sha1hex(text).then(function (expected) {
            finish(g, expected === cfg.signature ? null : 'config:invalid signature');
          });
        }, 5);
      },
      ready: function (fn) {
        if (state === 'ready') setTimeout(fn, 0);
        else readyQueue.push(fn);
      },
      error: function (fn) {
        onError = fn;
        if (state === 'failed') { var f = failure; setTimeout(function () { fn(f); }, 0); }
      },
    };
  };
})();
