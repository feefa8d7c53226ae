// Memoised wasm start-up shared by every host. Each host only says how to
// instantiate (WXWebAssembly with a package path, fetch, or fs), returning
// { instance, entropy? }; the import object is wasm-bindgen's bundler shim
// module, so no generated file is patched by hand.
import * as bg from 'wxsession-bg';
import { initError } from './errors.js';

const IMPORT_MODULE = './wxsession_bg.js';

export function memoisedInit(instantiate) {
  let ready = null;
  return function init(options) {
    if (!ready) {
      // A failed start may be retried (e.g. after a bad wasmPath is fixed).
      ready = start(instantiate, options || {}).catch((err) => { ready = null; throw err; });
    }
    return ready;
  };
}

async function start(instantiate, options) {
  let result;
  try {
    result = await instantiate({ [IMPORT_MODULE]: bg }, options);
  } catch (err) {
    if (err && err.code === 'INIT_FAILED') throw err;
    throw initError('could not instantiate the wasm module: ' + ((err && (err.message || err.errMsg)) || err), err);
  }
  const instance = result && result.instance ? result.instance : result;
  bg.__wbg_set_wasm(instance.exports);
  if (typeof instance.exports.__wbindgen_start === 'function') instance.exports.__wbindgen_start();
  // Hosts without a synchronous CSPRNG hand over entropy gathered up front.
  if (result && result.entropy) bg.seedRandom(result.entropy);
  return bg;
}
