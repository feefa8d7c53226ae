// Shared by every Token Store backend, including the mini-program one, so this
// file stays ES2017 with no Node or browser APIs (no optional chaining, no
// object spread, no `catch {}` without a binding).

import { codedError, withDeadline as deadline } from '../shared/errors.js';

export function storeError(code, message, cause) {
  return codedError(code, message, { cause: cause });
}

export function checkKey(key) {
  if (typeof key !== 'string' || key === '') throw storeError('BAD_INPUT', 'key must be a non-empty string, got ' + describe(key));
}

export function checkValue(value) {
  if (typeof value !== 'string') throw storeError('BAD_INPUT', 'value must be a string, got ' + describe(value));
}

// 0 means "no expiry". Omitting the ttl is an error on purpose: a credential
// cached forever by accident is worse than a loud failure.
export function checkTtl(ttlMs, what) {
  if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs < 0) {
    throw storeError('BAD_INPUT', (what || 'ttlMs') + ' must be an integer >= 0, got ' + describe(ttlMs));
  }
}

export function checkLockTtl(ttlMs) {
  checkTtl(ttlMs, 'lock ttlMs');
  if (ttlMs === 0) throw storeError('BAD_INPUT', 'lock ttlMs must be positive: a lock that never expires outlives a crashed holder');
}

export function checkToken(token) {
  if (typeof token !== 'string' || token === '') throw storeError('BAD_INPUT', 'unlock token must be a non-empty string, got ' + describe(token));
}

export function expiresAtFor(ttlMs, now) {
  return ttlMs > 0 ? now + ttlMs : null;
}

// The { value, expiresAt } record the file, wx and localStorage backends
// keep. Anything else in a slot we own means someone else wrote it or it
// was damaged: never hand that out as a credential.
export function isRecord(r) {
  return r !== null && typeof r === 'object' && typeof r.value === 'string' &&
    (r.expiresAt === null || (typeof r.expiresAt === 'number' && isFinite(r.expiresAt)));
}

// App sessions, their per-user index and the users' MP sessions (the
// session_key decrypt needs): clear() (wechat-jssdk's clearStore) leaves
// them, so clearing at start-up logs nobody out and breaks no decrypt.
export function survivesClear(key) {
  return key.startsWith('sess:') || key.startsWith('idx:') || key.startsWith('mp:');
}

export function isLive(record, now) {
  return record.expiresAt === null || record.expiresAt > now;
}

// No backend call may leave the core waiting forever (a wx callback that
// never comes, a Redis command queued while the server is away).
export function withDeadline(promise, ms, what) {
  return deadline(promise, ms, 'STORE_UNAVAILABLE', what);
}

function describe(v) {
  if (v === null) return 'null';
  if (typeof v === 'string') return 'a string of length ' + v.length;
  if (typeof v === 'number') return String(v);
  return typeof v;
}
