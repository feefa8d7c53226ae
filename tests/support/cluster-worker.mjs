// One process of a test cluster: a Wechat on a RedisStore shared with its
// siblings. The parent sends commands over IPC; each answer carries the
// command's id, and failures come back as { code, message }.
import { createRequire } from 'node:module';
import { join } from 'node:path';

const { PKG_DIR, REDIS_URL, PREFIX, API_BASE, APP_ID, APP_SECRET, TIMEOUT, LOCK_TTL, RECHECK } = process.env;
const wxsession = createRequire(import.meta.url)(join(PKG_DIR, 'node', 'index.cjs'));
const store = new wxsession.RedisStore({ url: REDIS_URL, prefix: PREFIX, appId: APP_ID, timeout: 1000 });
const wechat = new wxsession.Wechat({
  appId: APP_ID, appSecret: APP_SECRET, store, apiBase: API_BASE,
  timeout: Number(TIMEOUT), lockTtl: Number(LOCK_TTL), recheckInterval: RECHECK ? Number(RECHECK) : undefined,
});

const settle = (p) => p.then((value) => ({ ok: true, value }), (e) => ({ ok: false, code: e.code, message: e.message }));
const commands = {
  burst: ({ n, url }) => Promise.all(Array.from({ length: n }, () => settle(wechat.jssdk.getSignature(url)))),
  token: ({ force }) => settle(wechat.getAccessToken({ force })),
  ticket: ({ force }) => settle(wechat.getJsapiTicket({ force })),
  refresh: () => settle(wechat.refresh()),
  exit: async () => { const closed = await settle(store.destroy()); setImmediate(() => process.exit(0)); return closed; },
};

process.on('message', async ({ id, cmd, args }) => {
  const value = await commands[cmd](args || {});
  process.send({ id, value });
});
process.send({ ready: true });
