// Argument checks shared by the node entry's public methods: run in JS
// before anything crosses into the wasm, each failure a BAD_INPUT.
import { codedError } from '../shared/errors.js';
import { checkKey } from '../shared/info.js';

/** A non-empty string of at most `max` characters, or BAD_INPUT naming `what`. */
export function text(what, v, max) {
  if (typeof v !== 'string' || v === '') throw codedError('BAD_INPUT', what + ' must be a non-empty string');
  if (v.length > max) throw codedError('BAD_INPUT', what + ' must be at most ' + max + ' characters');
  return v;
}

/**
 * A string that names a record (an OAuth key, an openid): `text`, then the
 * store's key checks (no lone surrogate, which the boundary would turn into
 * U+FFFD and so make two keys one).
 */
export function keyText(what, v, max) {
  return checkKey(what, text(what, v, max));
}

/**
 * Turns a synchronous argument check into a rejection: every method that
 * answers with a promise does so whatever it is given.
 */
export function checked(run) {
  try {
    return run();
  } catch (err) {
    return Promise.reject(err);
  }
}
