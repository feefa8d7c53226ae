// Where the app backend lives. A real build uses the default (which must be
// a "request legal domain" of the mini-program); a local demo points it
// elsewhere with setBaseUrl() before App.onLaunch runs, or sets
// getApp().globalData.baseUrl, which onLaunch prefers.
const DEFAULT_BASE_URL = 'https://api.example.com';
const LOGIN_URL = '/auth/login';

let baseUrl = DEFAULT_BASE_URL;

function getBaseUrl() {
  return baseUrl;
}

function setBaseUrl(url) {
  if (typeof url !== 'string' || !/^https?:\/\/[^/]/.test(url)) {
    throw new Error('config.setBaseUrl: expected an http(s) origin, got ' + JSON.stringify(url));
  }
  baseUrl = url.replace(/\/+$/, '');
}

module.exports = {
  DEFAULT_BASE_URL: DEFAULT_BASE_URL,
  LOGIN_URL: LOGIN_URL,
  getBaseUrl: getBaseUrl,
  setBaseUrl: setBaseUrl,
};
