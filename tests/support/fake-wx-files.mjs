// wx.uploadFile and wx.downloadFile for the strict fake wx, as a device has
// them: a file path must exist (temp files under wxfile://tmp_…, the app's
// own under wx.env.USER_DATA_PATH), success comes for every HTTP status with
// a string body (an upload's is never parsed), progress arrives through the
// returned task's onProgressUpdate, and task.abort() fails the call with
// "…:fail abort". Real HTTP to the test backend underneath.
import { randomBytes } from 'node:crypto';

export const USER_DATA_PATH = 'wxfile://usr';

export function installFiles(wx, { latency, finish }) {
  const files = new Map(); // path -> Buffer
  Object.assign(wx.calls, { uploadFile: 0, downloadFile: 0 });
  Object.assign(wx.knobs, { hangTransfers: false });
  wx.env = { USER_DATA_PATH };
  wx.files = files;
  /** A temp file, as wx.chooseImage or wx.chooseMessageFile would leave one. */
  wx.writeTempFile = (bytes) => {
    const path = 'wxfile://tmp_' + randomBytes(8).toString('hex');
    files.set(path, Buffer.from(bytes));
    return path;
  };

  // The task both APIs return: abort() and progress listeners.
  function task(api, opts) {
    const controller = new AbortController();
    const listeners = new Set();
    let done = false;
    const settle = (ok, payload) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      listeners.clear();
      finish(opts, ok, payload);
    };
    const timer = setTimeout(() => {
      controller.abort();
      settle(false, { errMsg: api + ':fail timeout' });
    }, opts.timeout || 60000);
    return {
      signal: controller.signal,
      settle,
      progress: (event) => { if (!done) for (const l of listeners) l(event); },
      handle: {
        abort() {
          controller.abort();
          settle(false, { errMsg: api + ':fail abort' });
        },
        onProgressUpdate(fn) { listeners.add(fn); },
        offProgressUpdate(fn) { listeners.delete(fn); },
        onHeadersReceived() {},
        offHeadersReceived() {},
      },
    };
  }

  const validUrl = (url) => typeof url === 'string' && /^https?:\/\//.test(url);
  const later = (fn) => setTimeout(fn, latency);

  wx.uploadFile = (opts = {}) => {
    wx.calls.uploadFile++;
    const t = task('uploadFile', opts);
    if (wx.knobs.hangTransfers) return t.handle;
    later(() => {
      if (!validUrl(opts.url)) return t.settle(false, { errMsg: 'uploadFile:fail invalid url "' + opts.url + '"' });
      if (typeof opts.name !== 'string' || !opts.name) return t.settle(false, { errMsg: 'uploadFile:fail parameter error: parameter.name should be String' });
      const bytes = files.get(opts.filePath);
      if (!bytes) return t.settle(false, { errMsg: 'uploadFile:fail file not found: ' + opts.filePath });
      const form = new FormData();
      for (const [k, v] of Object.entries(opts.formData || {})) form.append(k, String(v));
      form.append(opts.name, new Blob([bytes]), opts.filePath.split('/').pop());
      const header = Object.assign({}, opts.header);
      const total = bytes.length;
      t.progress({ progress: 50, totalBytesSent: Math.floor(total / 2), totalBytesExpectedToSend: total });
      fetch(opts.url, { method: 'POST', headers: header, body: form, signal: t.signal }).then(async (res) => {
        t.progress({ progress: 100, totalBytesSent: total, totalBytesExpectedToSend: total });
        const data = await res.text();
        t.settle(true, { data, statusCode: res.status, header: Object.fromEntries(res.headers), errMsg: 'uploadFile:ok' });
      }, () => t.settle(false, { errMsg: 'uploadFile:fail net::ERR_CONNECTION_REFUSED' }));
    });
    return t.handle;
  };

  wx.downloadFile = (opts = {}) => {
    wx.calls.downloadFile++;
    const t = task('downloadFile', opts);
    if (wx.knobs.hangTransfers) return t.handle;
    later(() => {
      if (!validUrl(opts.url)) return t.settle(false, { errMsg: 'downloadFile:fail invalid url "' + opts.url + '"' });
      if (opts.filePath !== undefined && !String(opts.filePath).startsWith(USER_DATA_PATH + '/')) {
        return t.settle(false, { errMsg: 'downloadFile:fail permission denied, open "' + opts.filePath + '"' });
      }
      fetch(opts.url, { headers: Object.assign({}, opts.header), signal: t.signal }).then(async (res) => {
        const bytes = Buffer.from(await res.arrayBuffer());
        const total = bytes.length;
        t.progress({ progress: 50, totalBytesWritten: Math.floor(total / 2), totalBytesExpectedToWrite: total });
        t.progress({ progress: 100, totalBytesWritten: total, totalBytesExpectedToWrite: total });
        // Every status lands in a file; only the app can tell a 404 page from a photo.
        const path = opts.filePath !== undefined ? opts.filePath : 'wxfile://tmp_' + randomBytes(8).toString('hex');
        files.set(path, bytes);
        const where = opts.filePath !== undefined ? { filePath: path } : { tempFilePath: path };
        t.settle(true, Object.assign(where, { statusCode: res.status, errMsg: 'downloadFile:ok' }));
      }, () => t.settle(false, { errMsg: 'downloadFile:fail net::ERR_CONNECTION_REFUSED' }));
    });
    return t.handle;
  };
}
