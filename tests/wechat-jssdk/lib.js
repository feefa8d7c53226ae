'use strict';
// What `require('../lib')` gave wechat-jssdk's tests (its own exports), with
// its Store, FileStore and MongoStore replaced by wxsession's drop-in from
// the built package, so every store these tests make is ours while Wechat,
// JSSDK and OAuth stay wechat-jssdk's own code.
const path = require('path');

const pkg = process.env.WXSESSION_PKG;
if (!pkg) throw new Error('WXSESSION_PKG is not set: run these through tests/wechat-jssdk.test.mjs');
const adapter = require(path.join(pkg, 'node', 'wechat-jssdk.cjs'));

// Their tests call `new MongoStore()` and expect a server on wechat-jssdk's
// default address; here the server is MONGODB_URL's and the database a
// throwaway one the wrapper names and drops.
class MongoStore extends adapter.MongoStore {
  constructor(options, wechatConfig) {
    super(Object.assign({ dbAddress: process.env.MONGODB_URL, dbName: process.env.MONGODB_DB }, options), wechatConfig);
  }
}

module.exports = Object.assign({}, require('wechat-jssdk'), {
  Store: adapter.Store,
  FileStore: adapter.FileStore,
  MongoStore,
});
