// nonceStr for every entry: [A-Za-z0-9] from the core's DRBG, which the
// host seeded at init (wx.getRandomValues in a mini-program, getrandom's
// crypto.getRandomValues elsewhere), never Math.random.
import { nonceStr as coreNonceStr } from 'wxsession-bg';
import { codedError } from './errors.js';
import { ensureStarted } from './loader.js';

/** A CSPRNG string of [A-Za-z0-9]; length 1..1024 (default 16). */
export function nonceStr(length) {
  if (length !== undefined && !(Number.isInteger(length) && length > 0 && length <= 1024)) {
    throw codedError('BAD_INPUT', 'nonceStr length must be a whole number from 1 to 1024');
  }
  ensureStarted();
  return coreNonceStr(length);
}
