// session.uploadFile() and session.downloadFile(): wx.uploadFile and
// wx.downloadFile with request()'s guarantees (login first and shared, the
// token only to the backend's origin, a reloginOn status causes one shared
// re-login and one replay, TIMEOUT). Each returns a promise with abort(), as
// Taro's Taro.uploadFile does: mini-programs have no AbortController.
import { codedError } from '../shared/errors.js';
import { checkOptions, intIn } from '../shared/options.js';
import { Session } from '../shared/session.js';
import { UPLOAD, DOWNLOAD } from '../shared/kinds.js';

const COMMON = { url: 'nonEmptyString', header: 'object', timeout: intIn(1, 600000, 'ms'), onProgress: 'function' };
const UPLOAD_OPTIONS = Object.assign({ filePath: 'nonEmptyString', name: 'nonEmptyString', formData: 'object' }, COMMON);
const DOWNLOAD_OPTIONS = Object.assign({ filePath: 'nonEmptyString' }, COMMON);
const noop = () => {};

function start(session, kind, where, spec, required, options) {
  let req, url;
  try {
    req = checkOptions(where, options, spec);
    if (required.some((key) => req[key] === undefined)) {
      throw codedError('BAD_CONFIG', where + ' needs { ' + required.join(', ') + ' }');
    }
    url = session._resolve(req.url);
  } catch (err) {
    const failed = Promise.reject(err);
    failed.abort = noop;
    return failed;
  }
  return session._transfer(kind, req, url);
}

export class MiniProgramSession extends Session {
  /** Resolves { statusCode, data } (data: the body as a string) on 2xx. */
  uploadFile(options) {
    return start(this, UPLOAD, 'uploadFile', UPLOAD_OPTIONS, ['url', 'filePath', 'name'], options);
  }

  /** Resolves { statusCode, tempFilePath } (or filePath, when given) on 2xx. */
  downloadFile(options) {
    return start(this, DOWNLOAD, 'downloadFile', DOWNLOAD_OPTIONS, ['url'], options);
  }
}
