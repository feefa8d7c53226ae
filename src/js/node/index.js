// Node entry (CommonJS): sessions (fetch + memory or a JSON file) and the
// Token Store, over the shared core.
import { readFileSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createSessionWith, Session } from '../shared/session.js';
import { fetchHost, memoryStorage, omit } from '../shared/fetch-host.js';
import { init } from './wasm.js';

// A JSON object of key -> value. Written to a temp file and renamed, so a
// crash mid-write leaves the old file, never half of a new one.
function fileStorage(path) {
  const read = () => {
    try {
      const v = JSON.parse(readFileSync(path, 'utf8'));
      return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
    } catch (_) {
      return {};
    }
  };
  const write = (data) => {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = path + '.' + process.pid + '.tmp';
    writeFileSync(tmp, JSON.stringify(data));
    renameSync(tmp, path);
  };
  return {
    get: (k) => { const v = read()[k]; return typeof v === 'string' ? v : null; },
    set: (k, v) => { const d = read(); d[k] = v; write(d); },
    remove: (k) => { const d = read(); delete d[k]; write(d); },
  };
}

export async function createSession(options) {
  await init(options);
  const storage = options.storage || (options.storagePath ? fileStorage(options.storagePath) : memoryStorage());
  return createSessionWith('node', fetchHost(options, storage), omit(options, ['storage']));
}

export { init, Session };
export { signJsapi, verifyRawData, verifyPushSignature, nonceStr } from '../shared/signature.js';
export { Store, FileStore, RedisStore, MongoStore } from './stores.js';
export { Wechat } from './wechat.js';
