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

const NOT_PLAIN = {};

function copyPlain(value, depth) {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return isFinite(value) ? value : NOT_PLAIN;
  if (typeof value !== 'object' || depth > 64) return NOT_PLAIN;
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const v = copyPlain(value[i], depth + 1);
      if (v === NOT_PLAIN) return NOT_PLAIN;
      out[i] = v;
    }
    return Object.freeze(out);
  }
  const proto = Object.getPrototypeOf(value);
  if ((proto !== Object.prototype && proto !== null) || typeof value.toJSON === 'function') return NOT_PLAIN;
  const out = {};
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k === '__proto__') return NOT_PLAIN;
    const v = copyPlain(value[k], depth + 1);
    if (v === NOT_PLAIN) return NOT_PLAIN;
    out[k] = v;
  }
  return Object.freeze(out);
}

/**
 * A deep-frozen copy of an info that JSON would keep as it is (plain
 * objects, arrays, strings, finite numbers, booleans, null), sharing its
 * strings; undefined when JSON would change something (a Date, a toJSON,
 * an undefined field...): then the store parses the JSON text instead.
 */
export function frozenCopy(info) {
  const copy = copyPlain(info, 0);
  return copy === NOT_PLAIN ? undefined : copy;
}
