// WeChat's signatures, computed in the Rust core. These wrappers only
// check JS types: verification answers false (never throws) for malformed
// input, signing throws BAD_INPUT.
import { signJsapiParts, verifyRawDataParts, verifyPushSignatureParts, nonceStr as coreNonceStr } from 'wxsession-bg';
import { codedError } from './errors.js';
import { ensureStarted } from './loader.js';

// Timestamps are commonly numbers; everything else must already be a string.
const text = (v) => (typeof v === 'number' && Number.isFinite(v) ? String(v) : v);
const allStrings = (...vs) => vs.every((v) => typeof v === 'string');

/** The URL as WeChat signs and checks it: without its '#…' fragment. */
export function stripHash(url) {
  const i = url.indexOf('#');
  return i < 0 ? url : url.slice(0, i);
}

/** signJsapi({ jsapiTicket, nonceStr, timestamp, url }) -> hex sha1 for wx.config. */
export function signJsapi(params) {
  const p = params || {};
  ensureStarted();
  const ticket = p.jsapiTicket, nonce = p.nonceStr, timestamp = text(p.timestamp), url = p.url;
  if (!allStrings(ticket, nonce, timestamp, url)) {
    throw codedError('BAD_INPUT', 'signJsapi needs { jsapiTicket, nonceStr, timestamp, url } as strings');
  }
  return signJsapiParts(ticket, nonce, timestamp, url);
}

/** sha1(rawData + sessionKey) === signature, in constant time. */
export function verifyRawData(rawData, signature, sessionKey) {
  ensureStarted();
  return allStrings(rawData, signature, sessionKey) && verifyRawDataParts(rawData, signature, sessionKey);
}

/** sha1(sort(token, timestamp, nonce)) === signature, in constant time. */
export function verifyPushSignature(params) {
  const p = params || {};
  ensureStarted();
  const timestamp = text(p.timestamp);
  return allStrings(p.token, timestamp, p.nonce, p.signature) && verifyPushSignatureParts(p.token, timestamp, p.nonce, p.signature);
}

/** A CSPRNG string of [A-Za-z0-9]; length 1..1024 (default 16). */
export function nonceStr(length) {
  if (length !== undefined && !(Number.isInteger(length) && length > 0 && length <= 1024)) {
    throw codedError('BAD_INPUT', 'nonceStr length must be a whole number from 1 to 1024');
  }
  ensureStarted();
  return coreNonceStr(length);
}
