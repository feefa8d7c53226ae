// What every entry shares: the session, its options, its errors and its
// events. Each entry's declarations (miniprogram.d.ts, web.d.ts, node.d.ts)
// add what only that host has. No DOM or Node types here: a mini-program
// project has neither.

export type SessionState = 'anonymous' | 'logging-in' | 'authenticated';

export type ErrorCode =
  | 'LOGIN_FAILED' | 'EXCHANGE_FAILED' | 'UNAUTHORIZED' | 'HTTP_ERROR'
  | 'NETWORK' | 'TIMEOUT' | 'BAD_CONFIG' | 'RANDOM_UNAVAILABLE' | 'BAD_INPUT' | 'INIT_FAILED'
  /** Mini-program uploadFile/downloadFile: the caller called abort(). */
  | 'ABORTED'
  /** Token Store: a backend failed (kept in memory, retried on the next flush). */
  | 'STORE_UNAVAILABLE'
  /** Token Store: a backend holds something that is not a record of ours. */
  | 'STORE_CORRUPT'
  /** Token Store: a call after destroy(). */
  | 'STORE_DESTROYED'
  /** Node sessions.decrypt / decryptData: bad base64, padding or JSON, or a watermark for another appId. */
  | 'DECRYPT_FAILED'
  /** Web JssdkClient: wx.error fired (see `errMsg`), or the signature endpoint answered no signature. */
  | 'JSSDK_CONFIG'
  /** Web OAuthClient: the redirect's state is missing or not the one this tab sent. */
  | 'OAUTH_STATE'
  /** Node Wechat: WeChat answered a non-zero errcode (see `errcode`, `errmsg`). */
  | 'WECHAT_API'
  /** Node Wechat.refresh(): more than 5 manual refreshes in 2 hours. */
  | 'RATE_LIMITED';

export interface WxSessionError extends Error {
  name: 'WxSessionError';
  code: ErrorCode;
  /** HTTP_ERROR, UNAUTHORIZED and a non-2xx EXCHANGE_FAILED. */
  status?: number;
  /** The response body (a mini-program upload's is a string). */
  data?: unknown;
  cause?: unknown;
  /** JSSDK_CONFIG from wx.error: the JS-SDK's errMsg, e.g. 'config:invalid signature'. */
  errMsg?: string;
  /** WECHAT_API: WeChat's errcode and errmsg. */
  errcode?: number;
  errmsg?: string;
}

/**
 * Where a session keeps its token: the same key/value interface as the
 * Token Store's backends (sync, or returning promises). `ttlMs` 0 means no
 * expiry; otherwise the stored token expires then.
 */
export interface StorageBackend {
  get(key: string): string | null | undefined | PromiseLike<string | null | undefined>;
  set(key: string, value: string, ttlMs: number): void | PromiseLike<void>;
  delete(key: string): void | PromiseLike<void>;
}

/**
 * What `onEvent` hears: one per backend call attempt (a replay after a
 * re-login is attempt 2), per login and per wx.checkSession. Never a token,
 * a login code or a body.
 */
export interface SessionEvent {
  /** 'login': no token to replace; 'relogin': the token stopped working (a reloginOn status, a failed wx.checkSession). */
  type: 'request' | 'upload' | 'download' | 'login' | 'relogin' | 'checkSession';
  /** Requests, uploads and downloads: the absolute URL without its query and fragment. */
  url?: string;
  /** The HTTP status of the attempt, when it got one. */
  status?: number;
  durationMs: number;
  /** Requests: 1, then 2 for a replay. Logins: the logins tried since the last one that succeeded. */
  attempt: number;
  /** Why it did not succeed: the code it rejects with (UNAUTHORIZED even when replayed), or SESSION_EXPIRED for wx.checkSession. */
  error?: ErrorCode | 'SESSION_EXPIRED';
}

/** createSession's options every entry takes. */
export interface SessionOptionsBase {
  /**
   * Your backend, e.g. 'https://api.example.com' or 'https://example.com/api':
   * request URLs are resolved against it (relative ones extend its path), and
   * the token goes only to its origin and `tokenOrigins`.
   */
  baseUrl?: string;
  /** Other exact origins ('https://host[:port]') the token may go to; any other is BAD_CONFIG. */
  tokenOrigins?: string[];
  /**
   * Default exchange: POST JSON {code, ...exchangeBody()} -> 2xx JSON {token, expiresIn?}.
   * Resolved like a request URL. The token must be visible ASCII; expiresIn
   * (seconds) a positive number, clamped to 1 s .. 365 days.
   */
  loginUrl?: string;
  /** Replaces the default exchange. */
  exchange?: (code: string, extra: Record<string, unknown>) => Promise<{ token: string; expiresIn?: number }>;
  /** Extra fields for the exchange body (replaces the deprecated getUserInfo step). */
  exchangeBody?: () => Record<string, unknown> | Promise<Record<string, unknown>>;
  tokenHeader?: string;            // 'Authorization'
  tokenPrefix?: string;            // 'Bearer '
  storageKey?: string;             // 'wxsession'
  reloginOn?: number[];            // [401]
  maxRelogin?: number;             // 1
  timeout?: number;                // 10000 ms, every wx.* call and request
  expiryMargin?: number;           // 60000 ms, capped at half the token's lifetime
  /** A storage of your own; default wx storage, localStorage, or memory (node). */
  storage?: StorageBackend;
  /** Called one turn after each event; what it throws or returns is ignored. */
  onEvent?: (event: SessionEvent) => unknown;
}

export interface RequestOptions {
  /** Resolved against baseUrl; an origin other than baseUrl's or a tokenOrigins one is BAD_CONFIG. */
  url: string;
  method?: string;
  data?: unknown;
  header?: Record<string, string>;
  /** ms, 1 to 600000; default the session's timeout. */
  timeout?: number;
}

export declare class Session {
  readonly state: SessionState;
  request<T = unknown>(options: RequestOptions): Promise<T>;
  /** Resolves once logged in and the token is in storage (or storage failed). */
  login(options?: { force?: boolean }): Promise<void>;
  /** Resolves once storage no longer holds the token (or failed to drop it). */
  logout(): Promise<void>;
  onChange(listener: (state: SessionState) => void): () => void;
}

/** A CSPRNG string of [A-Za-z0-9], default length 16 (1 to 1024). */
export declare function nonceStr(length?: number): string;
