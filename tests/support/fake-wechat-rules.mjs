// What WeChat decides, without the HTTP: credential lifecycles and the
// errcodes its documentation lists per API. fake-wechat-api.mjs adds the
// transport, fault injection and bookkeeping around these rules.
import { createHash, randomBytes, createCipheriv } from 'node:crypto';

const E = {
  grantType: [40002, 'invalid grant_type'],
  appidMissing: [41002, 'appid missing'],
  appid: [40013, 'invalid appid'],
  secretMissing: [41004, 'appsecret missing'],
  secret: [40125, 'invalid appsecret'],
  quota: [45009, 'reach max api daily quota limit'],
  format: [47001, 'data format error'],
  tokenMissing: [41001, 'access_token missing'],
  tokenInvalid: [40001, 'invalid credential, access_token is invalid or not latest'],
  tokenExpired: [42001, 'access_token expired'],
  args: [40097, 'invalid args'],
  codeMissing: [41008, 'missing code'],
  code: [40029, 'invalid code'],
  codeUsed: [40163, 'code been used'],
  refreshMissing: [41003, 'refresh_token missing'],
  refresh: [40030, 'invalid refresh_token'],
  refreshExpired: [42002, 'refresh_token expired'],
  openidMissing: [41009, 'missing openid'],
  openid: [40003, 'invalid openid'],
  unauthorized: [48001, 'api unauthorized'],
};
/** errcode -> WeChat's errmsg, so injected failures read like real ones. */
export const ERRMSG = new Map([[-1, 'system error'], ...Object.values(E)]);
const fail = ([errcode, errmsg]) => ({ errcode, errmsg });

// stable_token is POST JSON only; everything else is a GET with a query.
export const ROUTES = {
  '/cgi-bin/token': { endpoint: 'token', method: 'GET', quota: 'token' },
  '/cgi-bin/stable_token': { endpoint: 'stableToken', method: 'POST', quota: 'stableToken' },
  '/cgi-bin/ticket/getticket': { endpoint: 'ticket', method: 'GET', quota: 'ticket' },
  '/cgi-bin/getcallbackip': { endpoint: 'callbackIp', method: 'GET', quota: null },
  '/sns/oauth2/access_token': { endpoint: 'oauthAccessToken', method: 'GET', quota: 'oauth' },
  '/sns/oauth2/refresh_token': { endpoint: 'oauthRefresh', method: 'GET', quota: 'oauth' },
  '/sns/auth': { endpoint: 'oauthAuth', method: 'GET', quota: 'oauth' },
  '/sns/userinfo': { endpoint: 'oauthUserInfo', method: 'GET', quota: 'oauth' },
  '/sns/jscode2session': { endpoint: 'code2Session', method: 'GET', quota: 'code2Session' },
  '/wxa/business/getuserphonenumber': { endpoint: 'phoneNumber', method: 'POST', query: true, quota: null },
};
export const ENDPOINTS = Object.values(ROUTES).map((r) => r.endpoint);

const DAY_MS = 86_400_000;
const REFRESH_TOKEN_MS = 30 * DAY_MS; // WeChat: an OAuth refresh_token lasts 30 days
const random = (bytes) => randomBytes(bytes).toString('base64url');
const sha1 = (s) => createHash('sha1').update(s).digest('hex');

export function createRules({ appId, appSecret, tokenTtl, ticketTtl, oauthTtl, graceMs, codeTtlMs, stableRenewMs, quota, now }) {
  const tokens = new Map();        // access_token -> { expiresAt, supersededAt, invalid }
  const tickets = new Map();       // ticket -> { type, token, expiresAt, supersededAt }
  const newest = new Map();        // line ('token' | 'stable' | 'ticket:jsapi' | ...) -> newest value
  const codes = new Map();         // code -> { kind, openid, unionid, scope, nickname, issuedAt, used }
  const refreshTokens = new Map(); // refresh_token -> { openid, unionid, scope, nickname, issuedAt }
  const oauthTokens = new Map();   // OAuth access_token -> { openid, unionid, scope, nickname, expiresAt }
  const currentOauth = new Map();  // openid -> the only OAuth access_token still honoured
  const used = new Map();          // quota key -> { day, n }
  const sessionKeys = new Map();   // openid -> the session_key of its newest login (WeChat rotates it)
  const phoneCodes = new Map();    // getPhoneNumber code -> { phoneNumber, issuedAt, used }
  let lastToken = null;

  // WeChat keeps a superseded credential usable for a while so that callers
  // holding it are not cut off mid-flight, but never past its own expiry.
  const lifeState = (c, at = now()) => {
    if (c.invalid) return 'invalidated';
    const graceEnd = c.supersededAt == null ? Infinity : c.supersededAt + graceMs;
    if (graceEnd < c.expiresAt && at >= graceEnd) return 'superseded';
    return at >= c.expiresAt ? 'expired' : 'valid';
  };
  const issue = (store, line, ttlSec, fields = {}) => {
    const at = now();
    const prev = store.get(newest.get(line));
    if (prev && prev.supersededAt == null) prev.supersededAt = at;
    const value = random(96);
    store.set(value, { ...fields, expiresAt: at + ttlSec * 1000, supersededAt: null });
    newest.set(line, value);
    return value;
  };
  const tokenState = (token) => (tokens.has(token) ? lifeState(tokens.get(token)) : 'unknown');
  const ticketValid = (t) => lifeState(t) === 'valid' && tokenState(t.token) === 'valid';
  const tokenError = (token) => {
    if (!token) return fail(E.tokenMissing);
    const state = tokenState(token);
    return state === 'valid' ? null : fail(state === 'expired' ? E.tokenExpired : E.tokenInvalid);
  };
  const appError = (p, grant, needSecret = true) => {
    if (p.grant_type !== grant) return fail(E.grantType);
    if (!p.appid) return fail(E.appidMissing);
    if (p.appid !== appId) return fail(E.appid);
    if (!needSecret) return null;
    if (!p.secret) return fail(E.secretMissing);
    return p.secret === appSecret ? null : fail(E.secret);
  };
  // Expiry is checked before use, so a reused code reads 40163 only while
  // it would otherwise still be good.
  const redeem = (code, kind) => {
    if (!code) return fail(E.codeMissing);
    const c = codes.get(code);
    if (!c || c.kind !== kind || now() - c.issuedAt >= codeTtlMs) return fail(E.code);
    if (c.used) return fail(E.codeUsed);
    c.used = true;
    return c;
  };
  const grantToken = (line) => {
    lastToken = issue(tokens, line, tokenTtl);
    return { access_token: lastToken, expires_in: tokenTtl };
  };
  const grantOauth = (refreshToken) => {
    const { openid, unionid, scope, nickname } = refreshTokens.get(refreshToken);
    const access_token = random(64);
    oauthTokens.set(access_token, { openid, unionid, scope, nickname, expiresAt: now() + oauthTtl * 1000 });
    currentOauth.set(openid, access_token);
    return { access_token, expires_in: oauthTtl, refresh_token: refreshToken, openid, scope };
  };
  // The user's current OAuth access_token for that openid, unexpired (what
  // /sns/auth checks and /sns/userinfo requires): the token's entry, or the errcode.
  const oauthUser = (p) => {
    if (!p.access_token) return fail(E.tokenMissing);
    if (!p.openid) return fail(E.openidMissing);
    const t = oauthTokens.get(p.access_token);
    if (!t) return fail(E.tokenInvalid);
    if (t.openid !== p.openid) return fail(E.openid);
    if (currentOauth.get(t.openid) !== p.access_token) return fail(E.tokenInvalid);
    return now() >= t.expiresAt ? fail(E.tokenExpired) : t;
  };
  // WeChat's stable_token renews in the last 5 minutes of a token's life;
  // with a TTL shorter than that window the rule would renew on every call.
  const renewMs = stableRenewMs < tokenTtl * 1000 ? stableRenewMs : 0;

  const handlers = {
    token: (p) => appError(p, 'client_credential') ?? grantToken('token'),
    stableToken(p) {
      if (!p || typeof p !== 'object' || Array.isArray(p)) return fail(E.format);
      const bad = appError(p, 'client_credential');
      if (bad) return bad;
      const current = tokens.get(newest.get('stable'));
      const left = current && lifeState(current) === 'valid' ? current.expiresAt - now() : 0;
      if (p.force_refresh !== true && left > renewMs) {
        return { access_token: newest.get('stable'), expires_in: Math.floor(left / 1000) };
      }
      return grantToken('stable');
    },
    ticket(p) {
      const bad = tokenError(p.access_token);
      if (bad) return bad;
      if (p.type !== 'jsapi' && p.type !== 'wx_card') return fail(E.args);
      const ticket = issue(tickets, 'ticket:' + p.type, ticketTtl, { type: p.type, token: p.access_token });
      return { errcode: 0, errmsg: 'ok', ticket, expires_in: ticketTtl };
    },
    callbackIp: (p) => tokenError(p.access_token) ?? { ip_list: ['127.0.0.1'] },
    code2Session(p) {
      const c = appError(p, 'authorization_code') ?? redeem(p.js_code, 'miniprogram');
      if (c.errcode) return c;
      const session_key = randomBytes(16).toString('base64');
      sessionKeys.set(c.openid, session_key);
      return { openid: c.openid, session_key, ...(c.unionid && { unionid: c.unionid }) };
    },
    // A getPhoneNumber button's code: once, within 5 minutes, for this app.
    phoneNumber(p) {
      if (!p) return fail(E.format);
      const bad = tokenError(p.access_token);
      if (bad) return bad;
      const c = phoneCodes.get(p.code);
      if (!c || c.used || now() - c.issuedAt >= codeTtlMs) return fail(E.code);
      c.used = true;
      return {
        errcode: 0, errmsg: 'ok',
        phone_info: {
          phoneNumber: c.phoneNumber, purePhoneNumber: c.phoneNumber, countryCode: '86',
          watermark: { timestamp: Math.floor(now() / 1000), appid: appId },
        },
      };
    },
    oauthAccessToken(p) {
      const c = appError(p, 'authorization_code') ?? redeem(p.code, 'oauth');
      if (c.errcode) return c;
      const refreshToken = random(64);
      refreshTokens.set(refreshToken, { openid: c.openid, unionid: c.unionid, scope: c.scope, nickname: c.nickname, issuedAt: now() });
      return { ...grantOauth(refreshToken), ...(c.unionid && { unionid: c.unionid }) };
    },
    oauthRefresh(p) {
      const bad = appError(p, 'refresh_token', false);
      if (bad) return bad;
      if (!p.refresh_token) return fail(E.refreshMissing);
      const r = refreshTokens.get(p.refresh_token);
      if (!r) return fail(E.refresh);
      if (now() - r.issuedAt >= REFRESH_TOKEN_MS) return fail(E.refreshExpired);
      return grantOauth(p.refresh_token);
    },
    oauthAuth(p) {
      const t = oauthUser(p);
      return t.errcode ? t : { errcode: 0, errmsg: 'ok' };
    },
    // Only a snsapi_userinfo grant may read the profile. WeChat stopped
    // returning gender and region in 2021 (0 and ''), and headimgurl is ''
    // for a user without an avatar.
    oauthUserInfo(p) {
      const t = oauthUser(p);
      if (t.errcode) return t;
      if (t.scope !== 'snsapi_userinfo') return fail(E.unauthorized);
      return {
        openid: t.openid, nickname: t.nickname, sex: 0, province: '', city: '', country: '', headimgurl: '', privilege: [],
        ...(t.unionid && { unionid: t.unionid }),
      };
    },
  };
  // The day's counter moves on every call that reaches WeChat, refused or not.
  const overQuota = (key) => {
    if (!key) return false;
    const day = Math.floor(now() / DAY_MS);
    const q = used.get(key)?.day === day ? used.get(key) : { day, n: 0 };
    used.set(key, q);
    return ++q.n > (quota[key] ?? Infinity);
  };

  return {
    /** params: the query, or the parsed JSON body (null when it did not parse). */
    handle: (route, params) => (overQuota(route.quota) ? fail(E.quota) : handlers[route.endpoint](params)),
    issueCode({ openid = 'o' + random(20), unionid, scope = 'snsapi_base', nickname = 'WeChat user', kind = 'miniprogram' } = {}) {
      if (kind !== 'miniprogram' && kind !== 'oauth') throw new Error(`issueCode: unknown kind ${kind}`);
      const code = random(24);
      codes.set(code, { kind, openid, unionid, scope, nickname, issuedAt: now(), used: false });
      return code;
    },
    issuePhoneCode({ phoneNumber = '13800138000' } = {}) {
      const code = random(24);
      phoneCodes.set(code, { phoneNumber, issuedAt: now(), used: false });
      return code;
    },
    /**
     * What WeChat gives a mini-program for `openid` (getUserInfo, getPhoneNumber
     * of old, open data): `payload` plus a watermark, AES-128-CBC under the
     * session_key of the user's newest login, with a fresh iv.
     */
    encryptFor(openid, payload, { watermarkAppId = appId } = {}) {
      const key = sessionKeys.get(openid);
      if (!key) throw new Error(`encryptFor: ${openid} has not logged in`);
      const iv = randomBytes(16);
      const cipher = createCipheriv('aes-128-cbc', Buffer.from(key, 'base64'), iv);
      const plain = JSON.stringify({ ...payload, watermark: { timestamp: Math.floor(now() / 1000), appid: watermarkAppId } });
      const encryptedData = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]).toString('base64');
      return { encryptedData, iv: iv.toString('base64') };
    },
    sessionKeyOf: (openid) => sessionKeys.get(openid),
    currentToken: () => lastToken,
    currentTicket: () => newest.get('ticket:jsapi') ?? null,
    tokenState,
    verifyJsapiSignature({ url, nonceStr, timestamp, signature }) {
      const page = String(url).split('#')[0];
      for (const [ticket, t] of tickets) {
        if (t.type !== 'jsapi' || !ticketValid(t)) continue;
        if (sha1(`jsapi_ticket=${ticket}&noncestr=${nonceStr}&timestamp=${timestamp}&url=${page}`) === signature) return true;
      }
      return false;
    },
    invalidateTokens() { for (const t of tokens.values()) t.invalid = true; },
    expireTokens() {
      const at = now();
      for (const t of tokens.values()) t.expiresAt = Math.min(t.expiresAt, at);
    },
  };
}
