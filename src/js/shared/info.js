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
 * copy. One pass reads every field (each getter once, each toJSON once)
 * into a JSON-shaped copy; the text is made from that copy, so text, expiry
 * and payload all come from the same values.
 */
export function infoParts(info) {
  if (info === null || typeof info !== 'object' || Array.isArray(info)) return { text: infoText(info), copy: undefined };
  const seen = { plain: true };
  let copy;
  try {
    copy = copyJson(info, '', 0, seen);
  } catch (err) {
    throw codedError('BAD_INPUT', 'info cannot be stored as JSON: ' + ((err && err.message) || err), { cause: err });
  }
  // A top-level toJSON that gives no object leaves nothing to store.
  if (copy === OMIT) throw codedError('BAD_INPUT', 'info must be an object (its toJSON gave nothing JSON can hold)');
  return { text: infoText(copy), copy: seen.plain ? copy : undefined };
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

const OMIT = {};

function put(out, k, v) {
  // A '__proto__' key is data in JSON; as an assignment it would set the prototype.
  if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  else out[k] = v;
}

/**
 * What JSON.stringify would write, as frozen data, reading each field
 * once: toJSON applied, undefined and functions left out of objects (null
 * in arrays), non-finite numbers as null, boxed primitives unwrapped.
 * `seen.plain` turns false when any of that changed something, or for an
 * object that is not a plain one. BigInt and nesting past 64 throw.
 */
function copyJson(value, key, depth, seen) {
  // As JSON.stringify: objects and BigInts may have a toJSON (read once).
  if ((value !== null && (typeof value === 'object' || typeof value === 'function')) || typeof value === 'bigint') {
    const toJSON = value.toJSON;
    if (typeof toJSON === 'function') {
      seen.plain = false;
      value = toJSON.call(value, key);
    }
  }
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (isFinite(value)) return value;
    seen.plain = false;
    return null;
  }
  if (typeof value === 'bigint') throw new TypeError('a BigInt cannot be stored as JSON');
  if (typeof value !== 'object') {
    seen.plain = false;
    return OMIT;
  }
  if (depth > 64) throw new TypeError('info nests deeper than 64 levels (or refers to itself)');
  if (value instanceof Number || value instanceof String || value instanceof Boolean) {
    seen.plain = false;
    return copyJson(value.valueOf(), key, depth, seen);
  }
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const v = copyJson(value[i], String(i), depth + 1, seen);
      if (v === OMIT) seen.plain = false;
      out[i] = v === OMIT ? null : v;
    }
    return Object.freeze(out);
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) seen.plain = false;
  const out = {};
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k === '__proto__') seen.plain = false;
    const v = copyJson(value[k], k, depth + 1, seen);
    if (v === OMIT) seen.plain = false;
    else put(out, k, v);
  }
  return Object.freeze(out);
}
