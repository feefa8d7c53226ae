// ONE session for the whole app, created at launch. Pages never log in
// themselves: they call utils/api.js, which waits for this session, and the
// session runs wx.login + the code exchange once, however many requests ask.
const wxsession = require('wxsession');
const config = require('./config');

App({
  globalData: {
    // Empty: use config.js. Set it before onLaunch to point at another backend.
    baseUrl: '',
    sessionState: 'anonymous',
  },

  // A Promise<Session>; utils/api.js awaits it.
  sessionReady: null,

  onLaunch() {
    if (this.globalData.baseUrl) config.setBaseUrl(this.globalData.baseUrl);
    this.globalData.baseUrl = config.getBaseUrl();

    this.sessionReady = wxsession.createSession({
      baseUrl: config.getBaseUrl(),
      loginUrl: config.LOGIN_URL,
    });

    const app = this;
    this.sessionReady.then(function (session) {
      app.globalData.sessionState = session.state;
      session.onChange(function (state) {
        app.globalData.sessionState = state;
      });
    }, function (err) {
      // INIT_FAILED: base library older than 2.14 (no WXWebAssembly with .wasm.br), or the
      // .wasm is missing because "Build npm" was not run.
      console.error('wxsession could not start:', err.code, err.message);
    });
  },
});
