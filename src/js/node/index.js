// Node entry (CommonJS): sessions (fetch + memory or a token file) and the
// Token Store, over the shared core.
import { resolve } from 'node:path';
import { openSession, Session } from '../shared/session.js';
import { sessionOptions } from '../shared/session-options.js';
import { fetchHost } from '../shared/fetch-host.js';
import { fileBackend } from '../backends/file.js';
import { memoryBackend } from '../backends/memory.js';
import { init } from './wasm.js';

// One writer per token file in this process, however many sessions use it:
// the package's file writer (0600, random exclusive temp file, fsync,
// rename; a file it cannot read is moved aside, never overwritten).
const tokenFiles = new Map();

function tokenFile(path) {
  const key = resolve(path);
  if (!tokenFiles.has(key)) tokenFiles.set(key, fileBackend({ fileStorePath: key }));
  return tokenFiles.get(key);
}

export async function createSession(options) {
  const opts = sessionOptions('node', options);
  await init(opts);
  return openSession('node', fetchHost(opts), opts, (o) => (o.storagePath !== null ? tokenFile(o.storagePath) : memoryBackend()));
}

export { init, Session };
export { signJsapi, verifyRawData, verifyPushSignature } from './signature.js';
export { nonceStr } from '../shared/nonce.js';
export { Store, FileStore, RedisStore, MongoStore } from './stores.js';
export { Wechat } from './wechat.js';
export { decryptData } from './decrypt.js';
