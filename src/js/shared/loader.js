// Memoised wasm start-up shared by every host. Each host only says how to
// instantiate (WXWebAssembly with a package path, fetch, or fs), returning
// { instance, entropy? }; the import object is wasm-bindgen's bundler shim
// module, so no generated file is patched by hand.
import * as bg from 'wxsession-bg';
import { initError } from './errors.js';

const IMPORTS = { './wxsession_bg.js': bg };

// One wasm instance per bundle, so whether it has started is module state.
let started = false;
let startSync = null;

/**
 * For synchronous APIs (new Store(), signJsapi()): starts the module where
 * the host can (Node), or throws INIT_FAILED asking for `await init()`.
 */
export function ensureStarted() {
  if (started) return;
  if (startSync) {
    startSync();
    return;
  }
  throw initError('wxsession is not started yet: await init() first');
}

/**
 * Returns `init(options)` (async, memoised, retried after a failure) and,
 * where the host can instantiate synchronously (Node), `init.sync()` so
 * constructors like `new FileStore()` need no await.
 */
export function memoisedInit(instantiate, instantiateSync) {
  let ready = null;
  let done = false;
  const wire = (result) => {
    if (done) return bg; // a sync start won the race
    const instance = result && result.instance ? result.instance : result;
    bg.__wbg_set_wasm(instance.exports);
    if (typeof instance.exports.__wbindgen_start === 'function') instance.exports.__wbindgen_start();
    // Hosts without a synchronous CSPRNG hand over entropy gathered up front.
    if (result && result.entropy) bg.seedRandom(result.entropy);
    done = true;
    started = true;
    return bg;
  };
  const failed = (err) => {
    if (err && (err.code === 'INIT_FAILED' || err.code === 'BAD_CONFIG')) return err;
    return initError('could not instantiate the wasm module: ' + ((err && (err.message || err.errMsg)) || err), err);
  };
  function init(options) {
    if (!ready) {
      ready = Promise.resolve()
        .then(() => instantiate(IMPORTS, options || {}))
        .then(wire, (err) => { throw failed(err); })
        .catch((err) => { ready = null; throw err; });
    }
    return ready;
  }
  if (instantiateSync) startSync = () => init.sync();
  init.sync = () => {
    if (done) return bg;
    if (!instantiateSync) throw initError('wxsession is not started here yet: await init() first');
    try {
      wire(instantiateSync(IMPORTS));
    } catch (err) {
      throw failed(err);
    }
    ready = Promise.resolve(bg);
    return bg;
  };
  return init;
}
