// Shared by the tests of `wechat.sessions`: the built package, a clock the
// test can move, WeChat's encryption done with node:crypto, and one check
// for every rejection (coded, and carrying no secret).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createCipheriv } from 'node:crypto';
import { inspect } from 'node:util';
import { join } from 'node:path';
import { PKG } from './harness.mjs';

export const wxsession = createRequire(import.meta.url)(join(PKG, 'node', 'index.cjs'));
export const APP = { appId: 'wx_fake_app', appSecret: 'fake_secret' };
export const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/**
 * The server's clock, moved by the test: the node entry reads Date.now()
 * on every call (so does the fake WeChat), so shifting it here moves both
 * without a hook in the library. The mini-program sandbox has its own
 * realm's Date and is not affected.
 */
export function shiftedClock() {
  const real = Date.now;
  let offset = 0;
  Date.now = () => real() + offset;
  return {
    advance(ms) { offset += ms; },
    restore() { Date.now = real; },
  };
}

/** AES-128-CBC as WeChat does it; `pad: false` leaves the padding to the caller. */
export function encrypt(keyB64, iv, plain, { pad = true } = {}) {
  const cipher = createCipheriv('aes-128-cbc', Buffer.from(keyB64, 'base64'), iv);
  cipher.setAutoPadding(pad);
  return Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64');
}

/** Everything an error could show: message, own fields, cause chain, stack. */
export function errorText(err) {
  return [err && err.message, inspect(err, { depth: 8 }), JSON.stringify(err)].join('\n');
}

/**
 * Awaits a rejection and checks it: a WxSessionError with `code`, whose
 * every visible part is free of `secrets` (session_keys, the app secret).
 */
export async function rejects(promise, code, secrets = []) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected a rejection with ${code}`);
  assert.equal(err.name, 'WxSessionError', errorText(err));
  assert.equal(err.code, code, errorText(err));
  const text = errorText(err);
  for (const s of secrets) if (s) assert.ok(!text.includes(s), `the ${code} error carries a secret`);
  return err;
}

/**
 * Secrets no reply or error may show: the app secret, and each session_key
 * the fake WeChat handed out as the tests note them (WeChat rotates them).
 */
export function keyRing(fake) {
  const keys = [APP.appSecret];
  return {
    keys,
    note(openid) {
      const k = fake.sessionKeyOf(openid);
      if (k && !keys.includes(k)) keys.push(k);
      return k;
    },
  };
}
