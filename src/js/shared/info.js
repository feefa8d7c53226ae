// Checks on what callers hand the Token Store, made in JS before anything
// crosses into wasm: a key must be a string (Express turns `?url[a]=1` into
// an object), and an info must be a plain JSON-able object. Circular
// objects, BigInt and throwing getters are BAD_INPUT, never a TypeError.
// ES2017: this ships to devices.
import { codedError } from './errors.js';

const MAX_INFO = 64 * 1024;

export function checkKey(what, key) {
  if (typeof key !== 'string') {
    throw codedError('BAD_INPUT', what + ' must be a string, not ' + (key === null ? 'null' : typeof key));
  }
  return key;
}

/** The info as JSON text (at most 64 KiB), or BAD_INPUT saying why not. */
export function infoText(info) {
  if (info === null || typeof info !== 'object' || Array.isArray(info)) {
    throw codedError('BAD_INPUT', 'info must be an object, not ' + (Array.isArray(info) ? 'an array' : info === null ? 'null' : typeof info));
  }
  let text;
  try {
    text = JSON.stringify(info);
  } catch (err) {
    throw codedError('BAD_INPUT', 'info cannot be stored as JSON: ' + ((err && err.message) || err), { cause: err });
  }
  if (typeof text !== 'string' || text.length > MAX_INFO) {
    throw codedError('BAD_INPUT', 'info must be a JSON object of at most 64 KiB');
  }
  return text;
}
