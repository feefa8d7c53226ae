'use strict';

const config = {
  wechatToken: '6mwdIm9p@Wg7$Oup',
  appId: 'wxfc9c5237ebf480aa',
  appSecret: '2038576336804a90992b8dbe46cd5948',
};

exports.config = config;
exports.should = require('chai').should();

// ---- wxsession: everything below is not wechat-jssdk's ------------------
// tests/wechat-jssdk.test.mjs runs these files with mocha against the fake
// WeChat, in a temporary working directory, and reads back (through the
// file in WECHAT_JSSDK_NOTES) why each pending test was skipped and any
// unhandled rejection.
const { appendFileSync } = require('fs');
const { FileStore } = require('./lib');

const api = process.env.FAKE_WECHAT_URL;
const notes = process.env.WECHAT_JSSDK_NOTES;
if (!api || !notes) throw new Error('FAKE_WECHAT_URL and WECHAT_JSSDK_NOTES are not set: run these through tests/wechat-jssdk.test.mjs');
const note = (entry) => appendFileSync(notes, JSON.stringify(entry) + '\n');

Object.assign(config, {
  accessTokenUrl: api + '/cgi-bin/token',
  ticketUrl: api + '/cgi-bin/ticket/getticket',
  apiUrl: api,
  // What wechat-jssdk's Wechat makes when given no store (a FileStore at
  // ./wechat-info.json), but the adapter's. Upstream, the first
  // `new Wechat(config)` wrote its default store into this shared object and
  // every later one reused it; here it is there from the start.
  store: new FileStore(undefined, config),
});

// mocha hands an unhandled rejection from test code back to the process and
// otherwise ignores it: an un-awaited flush() or destroy() that rejects
// must show up. Each arrives twice (mocha re-emits it), hence the set.
const seen = new WeakSet();
process.on('unhandledRejection', (reason, promise) => {
  if (seen.has(promise)) return;
  seen.add(promise);
  note({ unhandledRejection: String((reason && reason.stack) || reason) });
});

/** Registers `test` (a pending mocha Test) with the reason it does not run. */
function pending(test, reason) {
  note({ pending: test.fullTitle(), reason });
  return test;
}

const mongo = Boolean(process.env.MONGODB_URL);
const NO_MONGO = 'needs MongoDB: MONGODB_URL is not set (no MongoDB server can be installed here)';
exports.mongo = mongo;

/** it() that runs only with MONGODB_URL; pending otherwise. */
exports.itMongo = (title, fn) => (mongo ? it(title, fn) : pending(it(title), NO_MONGO));

/** describe() that runs only with MONGODB_URL; its tests are pending otherwise. */
exports.describeMongo = (title, fn) => {
  if (mongo) return describe(title, fn);
  const suite = describe.skip(title, fn);
  suite.tests.forEach((t) => pending(t, NO_MONGO));
  return suite;
};
