// A mini-program runtime as strict as a device: a `vm` context with wx,
// WXWebAssembly (code-package paths only), timers, console and ES built-ins,
// and without WebAssembly, TextEncoder/TextDecoder, crypto, fetch, URL,
// FinalizationRegistry or BigInt. The DevTools simulator has several of
// those and hides the bugs; a device does not.
import vm from 'node:vm';
import { readFileSync, existsSync, mkdirSync, cpSync, statSync } from 'node:fs';
import { join, dirname, resolve, normalize } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';

const REMOVED = ['WebAssembly', 'FinalizationRegistry', 'WeakRef', 'BigInt', 'BigInt64Array', 'BigUint64Array',
  'SharedArrayBuffer', 'Atomics', 'globalThis'];

// Under a virtual clock nothing may use an interval: it would never end.
function noInterval() {
  throw new Error('setInterval is not available under a virtual clock');
}

/** What WeChat DevTools' "build npm" does: miniprogram_dist -> miniprogram_npm/<name>/. */
export function buildNpm(projectRoot, packageDir, name = 'wxsession') {
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
  const dest = join(projectRoot, 'miniprogram_npm', name);
  mkdirSync(dest, { recursive: true });
  cpSync(join(packageDir, manifest.miniprogram), dest, { recursive: true });
  return dest;
}

/**
 * `clock` (optional): { now, setTimeout, clearTimeout } replacing the real
 * timers and Date.now inside the sandbox (see virtual-clock.mjs).
 */
export function createSandbox({ projectRoot, wx, console: log = console, clock }) {
  const WXWebAssembly = {
    instantiate(path, imports) {
      // Devices take a code-package path, never bytes.
      if (typeof path !== 'string' || !/\.wasm(\.br)?$/.test(path) || !path.startsWith('/')) {
        return Promise.reject(new Error('WXWebAssembly.instantiate: expected an absolute code-package path to a .wasm file, got ' + typeof path));
      }
      const file = resolve(projectRoot, '.' + normalize(path));
      if (!file.startsWith(resolve(projectRoot)) || !existsSync(file)) {
        return Promise.reject(new Error('WXWebAssembly.instantiate: no such file in the code package: ' + path));
      }
      const bytes = readFileSync(file);
      return WebAssembly.instantiate(path.endsWith('.br') ? brotliDecompressSync(bytes) : bytes, imports);
    },
  };
  const pages = [];
  let app = null;
  const timers = clock || { setTimeout, clearTimeout };
  const context = vm.createContext({
    wx, WXWebAssembly, console: log, setTimeout: timers.setTimeout, clearTimeout: timers.clearTimeout,
    setInterval: clock ? noInterval : setInterval, clearInterval: clock ? noInterval : clearInterval,
    App: (def) => { app = def; },
    Page: (def) => { pages.push(def); },
    getApp: () => app,
  });
  vm.runInContext(REMOVED.map((n) => `delete this.${n};`).join(''), context);
  if (clock) {
    context.__now = clock.now;
    vm.runInContext('Date.now = __now; delete this.__now;', context);
  }

  const cache = new Map();
  const load = (file) => {
    if (cache.has(file)) return cache.get(file).exports;
    const module = { exports: {} };
    cache.set(file, module);
    const fn = vm.runInContext(`(function (module, exports, require) {${readFileSync(file, 'utf8')}\n})`, context, { filename: file });
    fn.call(module.exports, module, module.exports, (name) => load(resolveModule(dirname(file), name)));
    return module.exports;
  };
  const resolveModule = (from, name) => {
    const candidates = name.startsWith('.') || name.startsWith('/')
      ? [resolve(name.startsWith('/') ? projectRoot : from, '.' + (name.startsWith('/') ? name : '/' + name))]
      : [join(projectRoot, 'miniprogram_npm', name)];
    for (const base of candidates) {
      for (const f of [base, base + '.js', join(base, 'index.js')]) {
        if (existsSync(f) && statSync(f).isFile()) return f;
      }
    }
    throw new Error(`module '${name}' is not defined (from ${from})`);
  };
  return {
    context,
    require: (name) => load(resolveModule(projectRoot, name)),
    run: (relPath) => load(resolveModule(projectRoot, './' + relPath)),
    get app() { return app; },
    pages,
    /** Evaluates an expression inside the sandbox (to prove a global is absent). */
    evaluate: (code) => vm.runInContext(code, context),
  };
}
