// Serves files under URL prefixes ({ '/pkg/': dir }) for the test servers
// and the playground,
// with the MIME types browsers insist on (wasm streaming needs its own).
import { readFile } from 'node:fs/promises';
import { join, normalize, extname } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.wasm': 'application/wasm', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.ts': 'text/plain',
};

/** The prefix of `files` that `path` falls under, or undefined. */
export const prefixOf = (files, path) => Object.keys(files).find((p) => path.startsWith(p));

export async function serveFile(res, files, prefix, path) {
  // normalize('/' + …) keeps `..` from climbing out of the served directory.
  const file = join(files[prefix], normalize('/' + path.slice(prefix.length)));
  try {
    const body = await readFile(file);
    // no-store: a rebuilt pkg/ must never be mixed with a cached older half.
    res.writeHead(200, { 'content-type': TYPES[extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(body);
  } catch {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'no such file' }));
  }
}
