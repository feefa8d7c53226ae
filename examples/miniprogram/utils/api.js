// The one way pages talk to the backend. Every call waits for the session
// App.onLaunch created; the session logs in when needed (once, however many
// calls race), adds "Authorization: Bearer <token>" and re-logs in once on a
// 401. Failures reject with err.code: LOGIN_FAILED, EXCHANGE_FAILED,
// UNAUTHORIZED, HTTP_ERROR (with err.status and err.data), NETWORK, TIMEOUT.

function session() {
  const app = getApp();
  if (!app || !app.sessionReady) {
    return Promise.reject(new Error('utils/api: App.onLaunch has not created the session yet'));
  }
  return app.sessionReady;
}

// opts: { url, method, data, header, timeout } -> Promise of the response body.
function request(opts) {
  return session().then(function (s) {
    return s.request(opts);
  });
}

function logout() {
  return session().then(function (s) {
    return s.logout();
  });
}

module.exports = {
  session: session,
  request: request,
  logout: logout,
};
