// decryptData(encryptedData, iv, sessionKey, appId): WeChat's encrypted
// user data (AES-128-CBC under the session_key) as an object, its watermark
// checked against appId; DECRYPT_FAILED for anything else. The work is the
// Rust core's; this checks arguments and parses the JSON it returns.
import { decryptDataParts } from 'wxsession-bg';
import { text } from './args.js';
import { ensureStarted } from '../shared/loader.js';

export function decryptData(encryptedData, iv, sessionKey, appId) {
  for (const [what, v, max] of [['encryptedData', encryptedData, 350 * 1024], ['iv', iv, 64], ['sessionKey', sessionKey, 64], ['appId', appId, 128]]) {
    text(what, v, max);
  }
  ensureStarted();
  return JSON.parse(decryptDataParts(encryptedData, iv, sessionKey, appId));
}
