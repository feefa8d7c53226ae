// A mini-program's app.js as Taro or uni-app would hand it to their bundler:
// one session for the app, the wasm copied next to the bundle (see the
// README's bundler recipes). The tests put the import to try in place.
import { createSession } from 'WXSESSION_IMPORT';

App({
  onLaunch(options) {
    this.sessionReady = createSession({
      baseUrl: options.query.backend,
      loginUrl: '/auth/login',
      wasmPath: '/wxsession/wxsession_bg.wasm.br',
    });
  },
});
