// Types of the mini-program entry (`wxsession/miniprogram`, or `wxsession`
// under WeChat DevTools' "build npm" and the `miniprogram` condition): the
// session with uploads and downloads, over wx.* and WXWebAssembly. No Token
// Store and no signatures here: both need a server's secrets (node entry).
import type { Session as SessionBase, SessionOptionsBase } from './base';

export type { SessionState, ErrorCode, WxSessionError, StorageBackend, SessionEvent, RequestOptions } from './base';
export { nonceStr } from './base';

export interface SessionOptions extends SessionOptionsBase {
  /** wx.checkSession once per app lifecycle (shared, the default), before every request, or never. */
  checkSession?: 'once' | 'always' | 'never';
  /** Code-package path of the brotli-compressed .wasm; default DEFAULT_WASM_PATH. */
  wasmPath?: string;
}

/** wx.uploadFile's progress, as it reports it. */
export interface UploadProgress { progress: number; totalBytesSent: number; totalBytesExpectedToSend: number }
/** wx.downloadFile's progress, as it reports it. */
export interface DownloadProgress { progress: number; totalBytesWritten: number; totalBytesExpectedToWrite: number }

export interface UploadFileOptions {
  /** Resolved and checked like request()'s url: the token goes only to the backend. */
  url: string;
  /** A local file path (e.g. from wx.chooseMedia). */
  filePath: string;
  /** The multipart field name of the file. */
  name: string;
  formData?: Record<string, unknown>;
  header?: Record<string, string>;
  /** ms, 1 to 600000; default the session's timeout (raise it for large files). */
  timeout?: number;
  /** Each progress event; a replay after a re-login reports from 0 again. */
  onProgress?: (event: UploadProgress) => void;
}

export interface DownloadFileOptions {
  url: string;
  header?: Record<string, string>;
  /** Where to keep the file (under wx.env.USER_DATA_PATH); default a temp file. */
  filePath?: string;
  timeout?: number;
  onProgress?: (event: DownloadProgress) => void;
}

/** On 2xx: what wx.uploadFile's success gave, without errMsg. */
export interface UploadResult { statusCode: number; /** The body as a string: wx.uploadFile does not parse it. */ data: string }
/** On 2xx: tempFilePath, or filePath when one was given. */
export interface DownloadResult { statusCode: number; tempFilePath?: string; filePath?: string }

/**
 * The promise of an upload or download, with abort(): it then rejects
 * ABORTED at once, whether it waits for the login or is in flight (the wx
 * task is aborted). Keep this promise to abort: then() returns a plain one.
 */
export interface TransferTask<T> extends Promise<T> {
  abort(): void;
}

export declare class Session extends SessionBase {
  /** wx.uploadFile through the session: rejects HTTP_ERROR (status, data) on a non-2xx, UNAUTHORIZED, TIMEOUT, NETWORK, ABORTED. */
  uploadFile(options: UploadFileOptions): TransferTask<UploadResult>;
  /** wx.downloadFile through the session; a non-2xx is HTTP_ERROR (the file wx wrote is not handed out). */
  downloadFile(options: DownloadFileOptions): TransferTask<DownloadResult>;
}

/** '/miniprogram_npm/wxsession/wxsession_bg.wasm.br': where DevTools' "build npm" puts the wasm. */
export declare const DEFAULT_WASM_PATH: string;
export declare function init(options?: { wasmPath?: string; timeout?: number }): Promise<unknown>;
export declare function createSession(options: SessionOptions): Promise<Session>;
