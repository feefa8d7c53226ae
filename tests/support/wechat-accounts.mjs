// WeChat's side of mini-program login, as far as an app can observe it:
// wx.login issues a code that is valid for five minutes and usable once at
// jscode2session; a user's WeChat session can expire (wx.checkSession fails).
import { randomBytes } from 'node:crypto';

export class WeChatAccounts {
  constructor({ now = () => Date.now() } = {}) {
    this.now = now;
    this.codes = new Map();      // code -> { openid, issuedAt, used }
    this.sessionValid = false;
    this.openid = 'o' + randomBytes(8).toString('hex');
  }

  issueCode() {
    const code = randomBytes(12).toString('base64url');
    this.codes.set(code, { openid: this.openid, issuedAt: this.now(), used: false });
    this.sessionValid = true;
    return code;
  }

  /** jscode2session: errcode 40029 for an unknown code, 40163 for a used one. */
  redeem(code) {
    const entry = this.codes.get(code);
    if (!entry || this.now() - entry.issuedAt > 5 * 60_000) return { errcode: 40029, errmsg: 'invalid code' };
    if (entry.used) return { errcode: 40163, errmsg: 'code been used' };
    entry.used = true;
    return { openid: entry.openid, session_key: randomBytes(16).toString('base64') };
  }
}
