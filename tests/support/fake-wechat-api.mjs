// A strict fake of api.weixin.qq.com on 127.0.0.1 (node:http), for tests,
// benchmarks and the demo: real paths, parameter names and errcodes, HTTP 200
// for errcodes as WeChat does, and a virtual clock for every expiry and quota
// decision. The rules live in fake-wechat-rules.mjs; this file adds what a
// real network can do to a client: latency, failures, hangs.
import { createServer, STATUS_CODES } from 'node:http';
import { createRules, ROUTES, ENDPOINTS, ERRMSG } from './fake-wechat-rules.mjs';

const JSON_TYPE = 'application/json; charset=utf-8';
const DEFAULT_QUOTA = { token: 2000, stableToken: 10000, ticket: 100000, code2Session: 100000, oauth: 100000 };

export async function startFakeWechat({
  appId = 'wx_fake_app', appSecret = 'fake_secret',
  host = '127.0.0.1', port = 0,
  tokenTtl = 7200, ticketTtl = 7200, oauthTtl = 7200,
  graceMs = 300_000, stableRenewMs = 300_000, codeTtlMs = 300_000,
  quota = {}, latencyMs = 0, now = () => Date.now(),
} = {}) {
  const rules = createRules({
    appId, appSecret, tokenTtl, ticketTtl, oauthTtl, graceMs, codeTtlMs, stableRenewMs, now,
    quota: { ...DEFAULT_QUOTA, ...quota },
  });
  const counts = Object.fromEntries([...ENDPOINTS, 'other'].map((e) => [e, 0]));
  const calls = [];
  const faults = new Map(ENDPOINTS.map((e) => [e, []])); // queued failNext() entries
  const hangs = new Map(ENDPOINTS.map((e) => [e, 0]));
  const latency = { all: latencyMs, per: new Map() };
  const sockets = new Set();
  const timers = new Set();
  const known = (endpoint, api) => {
    if (!faults.has(endpoint)) throw new Error(`${api}: unknown endpoint ${endpoint} (one of ${ENDPOINTS.join(', ')})`);
  };

  const reply = (res, entry, status, body) => {
    entry.status = status;
    entry.errcode = body ? body.errcode ?? 0 : null;
    const send = () => {
      timers.delete(timer);
      if (res.destroyed) return;
      if (body) {
        res.writeHead(status, { 'content-type': JSON_TYPE });
        res.end(JSON.stringify(body));
      } else {
        // What a gateway in front of WeChat answers: HTML, not JSON.
        res.writeHead(status, { 'content-type': 'text/html' });
        res.end(`<html><body><h1>${status} ${STATUS_CODES[status] ?? ''}</h1></body></html>`);
      }
    };
    const ms = latency.per.get(entry.endpoint) ?? latency.all;
    const timer = ms > 0 ? setTimeout(send, ms) : null;
    if (timer) timers.add(timer); else send();
  };

  const handle = (req, res, raw) => {
    const url = new URL(req.url, 'http://fake');
    const route = ROUTES[url.pathname];
    const endpoint = route ? route.endpoint : 'other';
    counts[endpoint]++;
    let params = Object.fromEntries(url.searchParams);
    if (route?.method === 'POST' && req.method === 'POST') {
      // stable_token takes everything in its body; other POST APIs take
      // access_token in the query and their arguments in the body.
      let body;
      try { body = JSON.parse(raw); } catch { body = null; }
      params = route.query ? (body && typeof body === 'object' && !Array.isArray(body) ? { ...body, access_token: params.access_token } : null) : body;
    }
    const entry = { endpoint, path: url.pathname, at: now(), status: null, errcode: null, params: redact(params) };
    calls.push(entry);
    if (!route) return reply(res, entry, 404, { errcode: -1, errmsg: 'not found' });
    if (req.method !== route.method) {
      res.setHeader('allow', route.method);
      return reply(res, entry, 405, { errcode: -1, errmsg: 'method not allowed' });
    }
    if (hangs.get(endpoint) > 0) {
      hangs.set(endpoint, hangs.get(endpoint) - 1);
      return; // the socket stays open until the client gives up or close()
    }
    const queue = faults.get(endpoint);
    if (queue.length) {
      const f = queue[0];
      if (--f.times <= 0) queue.shift();
      return f.httpStatus ? reply(res, entry, f.httpStatus, null) : reply(res, entry, 200, { errcode: f.errcode, errmsg: f.errmsg });
    }
    reply(res, entry, 200, rules.handle(route, params));
  };

  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => { raw += chunk; });
    req.on('end', () => handle(req, res, raw));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  let closing = null;

  return {
    url: `http://${host}:${server.address().port}`,
    counts,
    calls,
    /** Zeroes the counters and empties the call log (same objects, so references stay live). */
    resetCounts() {
      for (const k of Object.keys(counts)) counts[k] = 0;
      calls.length = 0;
    },
    issueCode: rules.issueCode,
    issuePhoneCode: rules.issuePhoneCode,
    encryptFor: rules.encryptFor,
    sessionKeyOf: rules.sessionKeyOf,
    currentToken: rules.currentToken,
    currentTicket: rules.currentTicket,
    tokenState: rules.tokenState,
    verifyJsapiSignature: rules.verifyJsapiSignature,
    invalidateTokens: rules.invalidateTokens,
    expireTokens: rules.expireTokens,
    failNext(endpoint, { errcode = -1, errmsg = ERRMSG.get(errcode) ?? 'system error', times = 1, httpStatus } = {}) {
      known(endpoint, 'failNext');
      faults.get(endpoint).push({ errcode, errmsg, times, httpStatus });
    },
    hangNext(endpoint, times = 1) {
      known(endpoint, 'hangNext');
      hangs.set(endpoint, hangs.get(endpoint) + times);
    },
    /** setLatency(ms) for every reply; setLatency(ms, endpoint) overrides it for one (ms null: no override). */
    setLatency(ms, endpoint) {
      if (endpoint === undefined) return void (latency.all = ms);
      known(endpoint, 'setLatency');
      if (ms == null) latency.per.delete(endpoint); else latency.per.set(endpoint, ms);
    },
    close() {
      closing ??= new Promise((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}

// The app secret must not end up in logs a test prints on failure.
function redact(params) {
  if (!params || typeof params !== 'object' || !('secret' in params)) return params;
  return { ...params, secret: '<redacted>' };
}
