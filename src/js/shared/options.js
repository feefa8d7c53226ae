// The one options checker every constructor uses before anything crosses
// into wasm: unknown or misspelled keys, wrong types, null, NaN, Infinity,
// BigInt and throwing getters are BAD_CONFIG with a message naming the key,
// never a default taken silently or a bare TypeError. Ranges that are a
// decision of the core are checked there. ES2017: this ships to devices.
import { codedError } from './errors.js';

// Kinds a key may have. A function kind answers '' when the value is fine,
// or what it must be ("a string of at most 100 characters").
const KINDS = {
  string: function (v) { return typeof v === 'string' ? '' : 'a string'; },
  nonEmptyString: function (v) { return typeof v === 'string' && v !== '' ? '' : 'a non-empty string'; },
  boolean: function (v) { return typeof v === 'boolean' ? '' : 'true or false'; },
  function: function (v) { return typeof v === 'function' ? '' : 'a function'; },
  int: function (v) { return Number.isSafeInteger(v) ? '' : 'a whole number'; },
  number: function (v) { return typeof v === 'number' && isFinite(v) ? '' : 'a finite number'; },
  object: function (v) { return v !== null && typeof v === 'object' ? '' : 'an object'; },
  stringList: function (v) {
    return Array.isArray(v) && v.length <= 100 && v.every(function (s) { return typeof s === 'string'; }) ? '' : 'a list of strings';
  },
  intList: function (v) {
    return Array.isArray(v) && v.length <= 100 && v.every(function (n) { return Number.isSafeInteger(n); }) ? '' : 'a list of whole numbers';
  },
  any: function () { return ''; },
};

function describe(v) {
  if (v === null) return 'null';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  return typeof v;
}

// The closest allowed key, so a typo's message says what was meant.
function suggestion(key, allowed) {
  let best = '';
  let bestScore = 3;
  for (const k of allowed) {
    const d = distance(key.toLowerCase(), k.toLowerCase());
    if (d < bestScore) { bestScore = d; best = k; }
  }
  return best ? ' (did you mean ' + best + '?)' : '';
}

function distance(a, b) {
  if (Math.abs(a.length - b.length) > 3) return 99;
  let prev = [];
  for (let j = 0; j <= b.length; j++) prev.push(j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur.push(Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    prev = cur;
  }
  return prev[b.length];
}

/**
 * Checks `options` against `spec` ({ key: kind name or function }) and
 * returns a plain copy holding only the keys given (undefined counts as not
 * given). `where` names the constructor in messages.
 */
export function checkOptions(where, options, spec) {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw codedError('BAD_CONFIG', where + ' takes an options object, not ' + describe(options));
  }
  const allowed = Object.keys(spec);
  const out = {};
  let keys;
  try {
    keys = Object.keys(options);
  } catch (err) {
    throw codedError('BAD_CONFIG', where + ': the options object cannot be read', { cause: err });
  }
  for (const key of keys) {
    if (!Object.prototype.hasOwnProperty.call(spec, key)) {
      throw codedError('BAD_CONFIG', where + ': unknown option ' + key + suggestion(key, allowed));
    }
    let value;
    try {
      value = options[key];
    } catch (err) {
      throw codedError('BAD_CONFIG', where + ': reading option ' + key + ' threw', { cause: err });
    }
    if (value === undefined) continue;
    const kind = spec[key];
    const check = typeof kind === 'function' ? kind : KINDS[kind];
    const wanted = check(value);
    if (wanted) throw codedError('BAD_CONFIG', where + ': ' + key + ' must be ' + wanted + ', not ' + describe(value));
    out[key] = value;
  }
  return out;
}

/** A kind: a whole number from `min` to `max`. */
export function intIn(min, max, unit) {
  return function (v) {
    return Number.isSafeInteger(v) && v >= min && v <= max ? '' : 'a whole number from ' + min + ' to ' + max + (unit ? ' ' + unit : '');
  };
}
