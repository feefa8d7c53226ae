#!/usr/bin/env node
// `npm run example:server` (or `node examples/server/server.js`): the sample
// backend on PORT (default 3000). Configured by the environment:
//
//   WECHAT_APP_ID, WECHAT_APP_SECRET  your mini-program's credentials. Without
//                                     both, a local fake WeChat API is started
//                                     (this repository's tests/support) and
//                                     /dev/* issues its login codes: a dev
//                                     default that never talks to WeChat.
//   WECHAT_API_BASE                   default https://api.weixin.qq.com
//   REDIS_URL                         keep sessions in Redis (RedisStore);
//                                     otherwise a FileStore at WECHAT_STORE_PATH
//                                     (default ./wechat-info.json), or memory
//                                     with the fake
//   PORT, HOST                        default 3000, 127.0.0.1
//
// Importable: startServer(options) -> { url, wechat, fake, close }.
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const express = require('express');
const { createApp } = require('./app');

// In your project this is require('wxsession'); in this repository it is the build in pkg/.
function loadWxsession() {
  try {
    return require('wxsession');
  } catch (err) {
    if (err.code !== 'MODULE_NOT_FOUND') throw err;
    return require(path.join(__dirname, '..', '..', 'pkg', 'node', 'index.cjs'));
  }
}

// The fake WeChat's side of things a real mini-program gets from WeChat.
function devRoutes(fake) {
  const dev = express.Router();
  const openid = (req) => String(req.query.openid || 'o_dev_user');
  // What wx.login hands the mini-program: a code usable once, for 5 minutes.
  dev.get('/code', (req, res) => res.json({ code: fake.issueCode({ kind: 'miniprogram', openid: openid(req) }) }));
  // What a getPhoneNumber button hands it.
  dev.get('/phone-code', (req, res) => res.json({ code: fake.issuePhoneCode({ phoneNumber: String(req.query.phoneNumber || '13800138000') }) }));
  // What wx.getWeRunData hands it: encrypted under the user's newest session_key.
  dev.get('/encrypted', (req, res) => {
    try {
      res.json(fake.encryptFor(openid(req), { stepInfoList: [{ timestamp: Math.floor(Date.now() / 1000), step: 4321 }] }));
    } catch (err) {
      res.status(409).json({ code: 'BAD_INPUT', message: 'log in as this user first (GET /dev/code, POST /auth/login)' });
    }
  });
  return dev;
}

async function startServer({
  port = 3000, host = '127.0.0.1', appId, appSecret, apiBase, redisUrl, storePath, sessions, log = () => {},
} = {}) {
  if (!appId !== !appSecret) throw new Error('set both WECHAT_APP_ID and WECHAT_APP_SECRET, or neither (a local fake WeChat)');
  const wxsession = loadWxsession();
  let fake = null;
  if (!appId) {
    if (apiBase) throw new Error('WECHAT_API_BASE needs WECHAT_APP_ID and WECHAT_APP_SECRET');
    const { startFakeWechat } = await import(pathToFileURL(path.join(__dirname, '..', '..', 'tests', 'support', 'fake-wechat-api.mjs')).href);
    fake = await startFakeWechat({ appId: 'wx_example_app', appSecret: 'example_secret' });
    [appId, appSecret, apiBase] = ['wx_example_app', 'example_secret', fake.url];
  }
  const store = redisUrl ? new wxsession.RedisStore({ url: redisUrl, appId })
    : fake ? new wxsession.Store()
      : new wxsession.FileStore({ fileStorePath: storePath || path.resolve('wechat-info.json'), appId });
  const closing = [];
  try {
    const wechat = new wxsession.Wechat({ appId, appSecret, apiBase, store, sessions });
    closing.push(() => store.destroy());
    const app = createApp({ wechat, log, dev: fake ? devRoutes(fake) : undefined });
    const server = await new Promise((resolve, reject) => {
      const s = app.listen(port, host, () => resolve(s)).once('error', reject);
    });
    closing.push(() => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
    if (fake) closing.push(() => fake.close());
    const url = `http://${host}:${server.address().port}`;
    return { url, wechat, fake, store, close: () => Promise.all(closing.reverse().map((fn) => fn())).then(() => undefined) };
  } catch (err) {
    await store.destroy().catch(() => {});
    if (fake) await fake.close();
    throw err;
  }
}

async function main() {
  const env = process.env;
  if (env.PORT !== undefined && !/^\d+$/.test(env.PORT)) {
    console.error('example server: PORT must be a number');
    process.exit(1);
  }
  let srv;
  try {
    srv = await startServer({
      port: env.PORT !== undefined ? Number(env.PORT) : 3000, host: env.HOST || '127.0.0.1',
      appId: env.WECHAT_APP_ID, appSecret: env.WECHAT_APP_SECRET, apiBase: env.WECHAT_API_BASE,
      redisUrl: env.REDIS_URL, storePath: env.WECHAT_STORE_PATH, log: (line) => console.log('  ' + line),
    });
  } catch (err) {
    console.error('example server: ' + err.message);
    process.exit(1);
  }
  console.log(`\nwxsession example server: ${srv.url}\n`);
  if (srv.fake) {
    console.log(`  no WECHAT_APP_ID/WECHAT_APP_SECRET: using a local fake WeChat API at ${srv.fake.url}`);
    console.log(`  try: curl -s ${srv.url}/dev/code   then POST its code to ${srv.url}/auth/login`);
  }
  console.log(`  sessions in ${env.REDIS_URL ? 'Redis ' + env.REDIS_URL : srv.fake ? 'memory' : 'a FileStore'}\n`);
  const stop = async () => {
    await srv.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) main();

module.exports = { startServer };
