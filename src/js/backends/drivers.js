// Database drivers are loaded when a store first needs one, so requiring
// wxsession never needs `redis` or `mongodb` installed. In the CommonJS
// bundle `require` exists; when these sources run as ES modules (tests),
// resolution starts from the working directory.
import { createRequire } from 'node:module';
import { storeError } from './common.js';

/* global require */
const load = typeof require === 'function' ? require : createRequire(process.cwd() + '/');

export function driver(name) {
  try {
    return load(name);
  } catch (err) {
    throw storeError('BAD_CONFIG', `the ${name} package is not installed: npm install ${name}`, err);
  }
}
