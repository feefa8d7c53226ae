// Checks on what callers hand the Token Store, made in JS before anything
// crosses into wasm: a key must be a string (Express turns `?url[a]=1` into
// an object), and an info must be a plain JSON-able object. Circular
// objects, BigInt and throwing getters are BAD_INPUT, never a TypeError.
// ES2017: this ships to devices.
import { codedError } from './errors.js';

const MAX_INFO = 64 * 1024;
// The store's own limit, checked here too so an oversized key is refused
// before it is copied into wasm memory (which never shrinks).
const MAX_KEY = 4096;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function checkKey(what, key) {
  if (typeof key !== 'string') {
    throw codedError('BAD_INPUT', what + ' must be a string, not ' + (key === null ? 'null' : typeof key));
  }
  if (key.length > MAX_KEY) throw codedError('BAD_INPUT', what + ' must be at most ' + MAX_KEY + ' characters');
  // The boundary turns every lone surrogate into U+FFFD: two such keys
  // would name one record.
  if (LONE_SURROGATE.test(key)) throw codedError('BAD_INPUT', what + ' must be well-formed Unicode (it holds a lone surrogate)');
  return key;
}

/**
 * The info as JSON text and, when JSON would keep it as it is, a frozen
 * copy. The copy is made first and the text made from it, so each getter
 * is read once: text, expiry and payload all come from the same values.
 */
export function infoParts(info) {
  let copy;
  try {
    copy = frozenCopy(info);
  } catch (err) {
    throw codedError('BAD_INPUT', 'info cannot be read: ' + ((err && err.message) || err), { cause: err });
  }
  return { text: infoText(copy !== undefined ? copy : info), copy };
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
