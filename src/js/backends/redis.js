// Token Store backend on Redis (the official `redis` client): shared by every
// process and machine of an app, and the only backend whose lock() excludes
// across processes. Keys: `${prefix}:${appId}:${key}`; locks live under
// `${prefix}.lock:${appId}:${key}` so no data key can ever collide with one.
import { randomBytes } from 'node:crypto';
import {
  storeError, checkKey, checkValue, checkTtl, checkLockTtl, checkToken, withDeadline, survivesClear,
} from './common.js';
import { driver } from './drivers.js';

// Compare-and-delete: a holder whose lock expired and was taken by someone
// else must not release the new holder's lock.
const UNLOCK = "if redis.call('get',KEYS[1])==ARGV[1] then return redis.call('del',KEYS[1]) else return 0 end";

export function redisBackend({
  url = 'redis://127.0.0.1:6379', prefix = 'wxsession', appId, client, timeout = 5000,
} = {}) {
  if (typeof appId !== 'string' || appId === '') {
    // Several apps often share one Redis: unscoped keys would mix their credentials.
    throw storeError('BAD_INPUT', 'redisBackend needs an appId (a non-empty string)');
  }
  const { createClient, TimeoutError } = driver('redis');
  // A client passed in belongs to the caller: we use it but never close it.
  const owned = !client;
  const redis = client || createClient({
    url,
    socket: {
      connectTimeout: Math.min(timeout, 5000),
      // Keep trying for ever (Redis restarts must heal by themselves), backing
      // off to 2 s so an outage costs little; callers are bounded by `timeout`.
      reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 2000),
    },
  });
  let lastError = null;
  // Without a listener, an 'error' event (emitted on every failed reconnect)
  // would crash the process. The latest one becomes the cause of a timeout.
  const onError = (err) => { lastError = err; };
  redis.on('error', onError);
  let closed = false;

  const dataKey = (key) => prefix + ':' + appId + ':' + key;
  const lockKey = (key) => prefix + '.lock:' + appId + ':' + key;

  function send(args, what) {
    if (closed) return Promise.reject(storeError('STORE_UNAVAILABLE', 'redis backend is closed'));
    // Lazy connect. Its promise is not awaited: commands wait in the client's
    // offline queue until it is ready, and the deadline bounds the wait.
    if (!redis.isOpen) redis.connect().catch(() => { /* reported through 'error' and the deadline */ });
    // The client's own timeout drops the command from its queue, so a SET that
    // timed out during an outage is not replayed later behind the caller's back.
    const command = redis.sendCommand(args, { timeout });
    return withDeadline(command, timeout + 50, 'redis ' + what).catch((err) => {
      if (err && err.code === 'STORE_UNAVAILABLE') throw Object.assign(err, { cause: lastError });
      if (err instanceof TimeoutError) {
        // The client's TimeoutError says nothing; the last socket error says why.
        throw storeError('STORE_UNAVAILABLE', 'redis ' + what + ' timed out after ' + timeout + ' ms' +
          (redis.isReady ? '' : ' (not connected' + (lastError ? ': ' + lastError.message : '') + ')'), lastError || err);
      }
      throw storeError('STORE_UNAVAILABLE', 'redis ' + what + ' failed: ' + (err && err.message), err);
    });
  }

  return {
    async get(key) {
      checkKey(key);
      const value = await send(['GET', dataKey(key)], 'GET');
      if (value === null || typeof value === 'string') return value;
      throw storeError('STORE_CORRUPT', 'redis GET answered a ' + typeof value + ', not a string');
    },
    async set(key, value, ttlMs) {
      checkKey(key); checkValue(value); checkTtl(ttlMs);
      const args = ['SET', dataKey(key), value];
      if (ttlMs > 0) args.push('PX', String(ttlMs));
      await send(args, 'SET');
    },
    async delete(key) {
      checkKey(key);
      await send(['DEL', dataKey(key)], 'DEL');
    },
    async lock(key, ttlMs) {
      checkKey(key); checkLockTtl(ttlMs);
      const token = randomBytes(16).toString('hex');
      const reply = await send(['SET', lockKey(key), token, 'NX', 'PX', String(ttlMs)], 'SET NX');
      return reply === 'OK' ? token : null;
    },
    async unlock(key, token) {
      checkKey(key); checkToken(token);
      const reply = await send(['EVAL', UNLOCK, '1', lockKey(key), token], 'EVAL unlock');
      return Number(reply) === 1;
    },
    /** clearStore(): every data key of this prefix and appId but app sessions, by SCAN (never KEYS). */
    async clear() {
      const base = prefix + ':' + appId + ':';
      let cursor = '0';
      do {
        const pattern = base.replace(/[*?[\]\\]/g, '\\$&') + '*';
        const [next, found] = await send(['SCAN', cursor, 'MATCH', pattern, 'COUNT', '200'], 'SCAN');
        const keys = found.filter((k) => !survivesClear(k.slice(base.length)));
        if (keys.length) await send(['DEL', ...keys], 'DEL');
        cursor = String(next);
      } while (cursor !== '0');
    },
    async close() {
      if (closed) return;
      closed = true;
      if (!owned) { redis.off('error', onError); return; }
      if (redis.isReady) {
        // Let replies in flight arrive, but never wait on a server that went away.
        try { await withDeadline(redis.close(), timeout, 'redis close'); return; } catch (_) { /* destroy below */ }
      }
      // Not connected (or close timed out): drop the socket and stop reconnecting.
      if (redis.isOpen) redis.destroy();
      // Events may still fire while the socket winds down; keep them harmless.
    },
  };
}
