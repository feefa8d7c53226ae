// Serves files under URL prefixes ({ '/pkg/': dir }) for the test servers,
// with the MIME types browsers insist on (wasm streaming needs its own).
import { readFile } from 'node:fs/promises';
import { join, normalize, extname } from 'node:path';

const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.html': 'text/html', '.wasm': 'application/wasm', '.json': 'application/json', '.css': 'text/css', '.png': 'image/png' };

/** The prefix of `files` that `path` falls under, or undefined. */
export const prefixOf = (files, path) => Object.keys(files).find((p) => path.startsWith(p));

export async function serveFile(res, files, prefix, path) {
  // normalize('/' + …) keeps `..` from climbing out of the served directory.
  const file = join(files[prefix], normalize('/' + path.slice(prefix.length)));
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'content-type': TYPES[extname(file)] || 'application/octet-stream' });
    res.end(body);
  } catch {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'no such file' }));
  }
}
