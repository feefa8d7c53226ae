// Token Store backend: one JSON file, read once and then served from memory
// (wechat-jssdk's FileStore layout, made crash-safe). One process, one
// instance per file: two writers to the same file overwrite each other, and
// lock() only excludes callers inside this process. Use Redis across
// processes or machines.
import { promises as fs, constants as fsConstants } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  storeError, checkKey, checkValue, checkTtl, checkLockTtl, checkToken, expiresAtFor, isRecord, isLive, survivesClear,
} from './common.js';

const MAX_FILE_BYTES = 128 * 1024 * 1024;

// Locks are per resolved path so two instances on one file in this process
// still exclude each other.
const locks = new Map();

export function fileBackend({ fileStorePath = join(process.cwd(), 'wechat-info.json'), appId } = {}) {
  const path = resolve(fileStorePath);
  let entries = null; // Map key -> { value, expiresAt }, once loaded
  let fileAppId = null;
  let loading = null;
  let writing = Promise.resolve(); // the chain every write joins, so writes never interleave
  let queued = null; // a write not started yet: later changes ride on it
  let closed = false;

  function load() {
    if (!loading) {
      loading = readFromDisk().then(
        (map) => { entries = map; },
        // A transient read failure (EACCES, EMFILE) must not be cached:
        // starting empty would let the next write destroy the real file.
        (err) => { loading = null; throw err; },
      );
    }
    return loading;
  }

  async function readFromDisk() {
    let text;
    try {
      const stat = await fs.stat(path);
      // JSON.parse is linear, but a file this big is not a token store.
      if (stat.size > MAX_FILE_BYTES) throw storeError('STORE_CORRUPT', path + ' is larger than 128 MiB: not a token store file');
      text = await fs.readFile(path, 'utf8');
    } catch (err) {
      // Nothing of ours there (missing, a parent that is a file, a directory
      // in the way): start empty and let the first write report the problem.
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR' || err.code === 'EISDIR') return new Map();
      if (err.code === 'STORE_CORRUPT') throw err;
      throw storeError('STORE_UNAVAILABLE', 'cannot read ' + path + ': ' + err.message, err);
    }
    let data = parse(text);
    if (!data) {
      data = fromWechatJssdk(text);
      if (data) await keepOriginal();
    }
    if (!data) {
      const aside = path + '.corrupt-' + Date.now();
      let moved = true;
      try { await fs.rename(path, aside); } catch (_) { moved = false; }
      console.warn('wxsession: ' + path + ' is not a valid token store file; ' +
        (moved ? 'moved it to ' + aside : 'could not move it aside') + ' and starting empty');
      return new Map();
    }
    if (appId !== undefined && data.appId !== appId) {
      // The seed's compare-config rule: credentials of another app are useless here.
      console.warn('wxsession: ' + path + ' holds credentials of appId ' + JSON.stringify(data.appId) +
        ', not ' + JSON.stringify(appId) + '; starting empty');
      return new Map();
    }
    fileAppId = data.appId;
    return new Map(Object.entries(data.entries));
  }

  // A wechat-info.json written by wechat-jssdk's FileStore: its records are
  // read as they are (the core understands their fields and dates), so a
  // switch costs no refetch. The original is kept beside it, once.
  function fromWechatJssdk(text) {
    let data;
    try { data = JSON.parse(text); } catch (_) { return null; }
    const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
    if (!isObj(data) || !(isObj(data.globalToken) || isObj(data.urls))) return null;
    const entries = {};
    const put = (key, info) => {
      if (isObj(info) && Object.keys(info).some((k) => k !== 'count')) {
        entries[key] = { value: JSON.stringify({ v: 1, expiresAt: null, info }), expiresAt: null };
      }
    };
    put('global', data.globalToken);
    put('card', data.card);
    const each = (map, prefix) => { if (isObj(map)) for (const k of Object.keys(map)) put(prefix + k, map[k]); };
    each(data.urls, 'sig:');
    each(data.oauth, 'oauth:');
    each(data.mp, 'mp:');
    const legacyAppId = isObj(data.wechatConfig) && typeof data.wechatConfig.appId === 'string' ? data.wechatConfig.appId : appId;
    console.warn('wxsession: ' + path + ' was written by wechat-jssdk; reading its records (the original is kept as ' + path + '.wechat-jssdk)');
    return { appId: legacyAppId, entries };
  }

  async function keepOriginal() {
    try { await fs.copyFile(path, path + '.wechat-jssdk', fsConstants.COPYFILE_EXCL); } catch (_) { /* kept already, or not copyable: the records are read either way */ }
  }

  function parse(text) {
    let data;
    try { data = JSON.parse(text); } catch (_) { return null; }
    if (!data || typeof data !== 'object' || !data.entries || typeof data.entries !== 'object' || Array.isArray(data.entries)) return null;
    return Object.values(data.entries).every(isRecord) ? data : null;
  }

  function serialise() {
    const now = Date.now();
    const live = {};
    for (const [key, record] of entries) {
      if (isLive(record, now)) Object.defineProperty(live, key, { value: record, enumerable: true });
    }
    return JSON.stringify({ appId: appId !== undefined ? appId : fileAppId, entries: live });
  }

  // Resolves once a write that includes every change made so far is on disk.
  function persist() {
    if (queued) return queued;
    const mine = writing.then(() => {
      queued = null;
      return writeAtomically(serialise());
    });
    queued = mine;
    writing = mine.catch(() => {});
    return mine;
  }

  async function writeAtomically(text) {
    const tmp = path + '.' + process.pid + '.' + randomBytes(6).toString('hex') + '.tmp';
    let handle;
    try {
      await fs.mkdir(dirname(path), { recursive: true });
      // 0600: the file holds access tokens and tickets. 'wx': created
      // here or not at all, never through something planted at that name.
      handle = await fs.open(tmp, 'wx', 0o600);
      await handle.writeFile(text, 'utf8');
      await handle.sync(); // the rename must never publish a file whose bytes are not on disk yet
      await handle.close();
      handle = null;
      await fs.rename(tmp, path);
    } catch (err) {
      if (handle) await handle.close().catch(() => {});
      await fs.unlink(tmp).catch(() => {});
      throw storeError('STORE_UNAVAILABLE', 'cannot write ' + path + ': ' + err.message, err);
    }
  }

  async function ready() {
    if (closed) throw storeError('STORE_UNAVAILABLE', 'file backend is closed');
    await load();
  }

  function lockTable() {
    if (!locks.has(path)) locks.set(path, new Map());
    return locks.get(path);
  }

  return {
    async get(key) {
      checkKey(key);
      await ready();
      const record = entries.get(key);
      if (!record) return null;
      if (isLive(record, Date.now())) return record.value;
      entries.delete(key); // dropped from the file by the next write
      return null;
    },
    async set(key, value, ttlMs) {
      checkKey(key); checkValue(value); checkTtl(ttlMs);
      await ready();
      // Memory first: if the disk fails, reads still see the value and the
      // next successful write persists it.
      entries.set(key, { value, expiresAt: expiresAtFor(ttlMs, Date.now()) });
      await persist();
    },
    async delete(key) {
      checkKey(key);
      await ready();
      if (entries.delete(key)) await persist();
    },
    /** clearStore(): every record but app sessions gone (same appId). */
    async clear() {
      await ready();
      for (const key of [...entries.keys()]) if (!survivesClear(key)) entries.delete(key);
      await persist();
    },
    async lock(key, ttlMs) {
      checkKey(key); checkLockTtl(ttlMs);
      if (closed) throw storeError('STORE_UNAVAILABLE', 'file backend is closed');
      const table = lockTable();
      const now = Date.now();
      const held = table.get(key);
      if (held && held.expiresAt > now) return null;
      const token = randomBytes(16).toString('hex');
      table.set(key, { token, expiresAt: now + ttlMs });
      return token;
    },
    async unlock(key, token) {
      checkKey(key); checkToken(token);
      const table = lockTable();
      const held = table.get(key);
      if (!held || held.token !== token || held.expiresAt <= Date.now()) return false;
      table.delete(key);
      return true;
    },
    async close() {
      closed = true;
      await writing; // never rejects: a failed write was already reported to its caller
    },
  };
}
