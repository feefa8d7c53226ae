// One mini-program world per test: a temp project with the built package
// "npm built" into it, a fake WeChat, the app backend on 127.0.0.1 and a
// strict sandbox. `restart()` is an app restart: new sandbox, same storage.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildNpm, createSandbox } from './miniprogram-sandbox.mjs';
import { createWx } from './fake-wx.mjs';
import { WeChatAccounts } from './wechat-accounts.mjs';
import { startAppBackend } from './app-backend.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PKG = join(ROOT, 'pkg');

export async function miniProgramWorld({ latency = 0, backendLatency = 0, expiresIn = 7200, quotaBytes } = {}) {
  const projectRoot = mkdtempSync(join(tmpdir(), 'wxsession-mp-'));
  buildNpm(projectRoot, PKG);
  const accounts = new WeChatAccounts();
  const backend = await startAppBackend({ accounts, expiresIn, latency: backendLatency });
  const wx = createWx({ accounts, latency, quotaBytes });
  const world = {
    projectRoot, accounts, backend, wx,
    sandbox: createSandbox({ projectRoot, wx }),
    get wxsession() { return world.sandbox.require('wxsession'); },
    createSession: (opts = {}) => world.wxsession.createSession({ baseUrl: backend.url, loginUrl: '/auth/login', ...opts }),
    restart() { world.sandbox = createSandbox({ projectRoot, wx }); },
    async close() {
      await backend.close();
      rmSync(projectRoot, { recursive: true, force: true });
    },
  };
  return world;
}

/** Settles every promise and returns [{ ok, value | error }] in order. */
export function settleAll(promises) {
  return Promise.all(promises.map((p) => p.then((value) => ({ ok: true, value }), (error) => ({ ok: false, error }))));
}

/**
 * Collects anything thrown outside a promise while a test file runs and
 * fails it at the end (`after` from node:test): nothing may escape.
 */
export function failOnUncaught(after, assert) {
  const uncaught = [];
  const collect = (err) => uncaught.push(err);
  process.on('uncaughtException', collect);
  process.on('unhandledRejection', collect);
  after(() => {
    process.off('uncaughtException', collect);
    process.off('unhandledRejection', collect);
    assert.deepEqual(uncaught, [], 'uncaught: ' + uncaught.map(String).join('; '));
  });
}
