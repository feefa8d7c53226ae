// Loading the wasm in Node: asynchronously for createSession, synchronously
// for constructors such as new FileStore().
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { memoisedInit } from '../shared/loader.js';

const wasmFile = (options) => (options && options.wasmPath) || join(__dirname, 'wxsession_node_bg.wasm');

export const init = memoisedInit(
  (imports, options) => WebAssembly.instantiate(readFileSync(wasmFile(options)), imports),
  (imports) => ({ instance: new WebAssembly.Instance(new WebAssembly.Module(readFileSync(wasmFile())), imports) }),
);
