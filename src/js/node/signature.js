// WeChat's signatures, computed in the Rust core: node entry only, because
// each needs a secret only a server holds (the jsapi_ticket, a user's
// session_key, the push token). These wrappers only check JS types:
// verification answers false (never throws) for malformed input, signing
// throws BAD_INPUT.
import { signJsapiParts, verifyRawDataParts, verifyPushSignatureParts } from 'wxsession-bg';
import { codedError } from '../shared/errors.js';
import { ensureStarted } from '../shared/loader.js';

// The URL crosses as bytes: encodeInto-speed instead of the boundary's
// per-character copy of a string argument.
const utf8 = new TextEncoder();

// Timestamps are commonly numbers; everything else must already be a string.
const text = (v) => (typeof v === 'number' && Number.isFinite(v) ? String(v) : v);
const allStrings = (...vs) => vs.every((v) => typeof v === 'string');

/** signJsapi({ jsapiTicket, nonceStr, timestamp, url }) -> hex sha1 for wx.config. */
export function signJsapi(params) {
  const p = params || {};
  ensureStarted();
  const ticket = p.jsapiTicket, nonce = p.nonceStr, timestamp = text(p.timestamp), url = p.url;
  if (!allStrings(ticket, nonce, timestamp, url)) {
    throw codedError('BAD_INPUT', 'signJsapi needs { jsapiTicket, nonceStr, timestamp, url } as strings');
  }
  return signJsapiParts(ticket, nonce, timestamp, utf8.encode(url));
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
