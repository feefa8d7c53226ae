// Types for every entry (node, web, miniprogram): they share one API.
import type { Sessions, SessionsOptions, PhoneInfo } from './sessions';
export * from './sessions';

export type SessionState = 'anonymous' | 'logging-in' | 'authenticated';

export type ErrorCode =
  | 'LOGIN_FAILED' | 'EXCHANGE_FAILED' | 'UNAUTHORIZED' | 'HTTP_ERROR'
  | 'NETWORK' | 'TIMEOUT' | 'BAD_CONFIG' | 'RANDOM_UNAVAILABLE' | 'BAD_INPUT' | 'INIT_FAILED'
  /** Token Store: a backend failed (kept in memory, retried on the next flush). */
  | 'STORE_UNAVAILABLE'
  /** Token Store: a backend holds something that is not a record of ours. */
  | 'STORE_CORRUPT'
  /** Token Store: a call after destroy(). */
  | 'STORE_DESTROYED'
  /** Web JssdkClient: wx.error fired (see `errMsg`), or the signature endpoint answered no signature. */
  | 'JSSDK_CONFIG'
  /** Web OAuthClient: the redirect's state is missing or not the one this tab sent. */
  | 'OAUTH_STATE'
  /** Node Wechat: WeChat answered a non-zero errcode (see `errcode`, `errmsg`). */
  | 'WECHAT_API'
  /** Node Wechat.refresh(): more than 5 manual refreshes in 2 hours. */
  | 'RATE_LIMITED'
  /** Node sessions.decrypt / decryptData: bad base64, padding or JSON, or a watermark for another appId. */
  | 'DECRYPT_FAILED';

export interface WxSessionError extends Error {
  name: 'WxSessionError';
  code: ErrorCode;
  /** HTTP_ERROR, UNAUTHORIZED and a non-2xx EXCHANGE_FAILED. */
  status?: number;
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

export interface SessionOptions {
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
  /** Web and node only: where the login code comes from (there is no wx.login). */
  getCode?: () => Promise<string>;
  tokenHeader?: string;            // 'Authorization'
  tokenPrefix?: string;            // 'Bearer '
  storageKey?: string;             // 'wxsession'
  checkSession?: 'once' | 'always' | 'never'; // mini-program default 'once'; elsewhere 'never'
  reloginOn?: number[];            // [401]
  maxRelogin?: number;             // 1
  timeout?: number;                // 10000 ms, every wx.* call and request
  expiryMargin?: number;           // 60000 ms, capped at half the token's lifetime
  /** Mini-program: code-package path of the .wasm; node: file path. */
  wasmPath?: string;
  /** Web only: URL of the .wasm. */
  wasmUrl?: string | URL;
  /** Node only: keep the token in this file (mode 0600, atomic writes) instead of memory. */
  storagePath?: string;
  /** A storage of your own; default wx storage, localStorage, or memory (node). */
  storage?: StorageBackend;
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

export declare function init(options?: { wasmPath?: string; wasmUrl?: string | URL; timeout?: number }): Promise<unknown>;
export declare function createSession(options: SessionOptions): Promise<Session>;
/** A CSPRNG string of [A-Za-z0-9], default length 16. */
export declare function nonceStr(length?: number): string;
/** sha1 for wx.config: keys sorted, values raw, the URL without '#…'. Throws BAD_INPUT for non-strings. */
export declare function signJsapi(params: { jsapiTicket: string; nonceStr: string; timestamp: string | number; url: string }): string;
/** sha1(rawData + sessionKey) === signature, in constant time; false (never a throw) for malformed input or an empty key. */
export declare function verifyRawData(rawData: string, signature: string, sessionKey: string): boolean;
/** sha1(sort(token, timestamp, nonce)) === signature, in constant time; false for malformed input or an empty token. */
export declare function verifyPushSignature(params: { token: string; timestamp: string | number; nonce: string; signature: string }): boolean;

// ---------------------------------------------------------------------------
// Token Store: wechat-jssdk's Store API (same method names and promise
// semantics); the cache logic runs in the Rust core.

/**
 * What a store keeps per entry: any JSON object. Node: results are the
 * stored object itself, deep-frozen (assigning to one throws in strict mode);
 * mini-program and web: copies.
 */
export type StoreInfo = Readonly<Record<string, unknown>>;

/**
 * The global token record. `expires_in`/`expiresIn` (seconds) or `expiresAt`
 * (epoch ms) in any info gives the entry its expiry.
 */
export interface GlobalToken extends StoreInfo {
  accessToken?: string;
  jsapi_ticket?: string;
  expires_in?: number;
  expiresIn?: number;
  expiresAt?: number;
}

type Awaitable<T> = T | PromiseLike<T>;

/**
 * A key/value backend for `new Store({ backend })`. Values are opaque
 * strings; `ttlMs` 0 means no expiry. The built-in ones are asynchronous;
 * the Store awaits whatever get/set/delete/close return.
 */
export interface StoreBackend {
  /** The live value, or null (undefined) when missing or expired. */
  get(key: string): Awaitable<string | null | undefined>;
  set(key: string, value: string, ttlMs: number): Awaitable<void>;
  delete(key: string): Awaitable<void>;
  /** Takes a lock for `ttlMs` (> 0): its token, or null when someone else holds it. */
  lock?(key: string, ttlMs: number): Promise<string | null>;
  /** Releases a lock taken with `token`: false when it had expired or been taken over. */
  unlock?(key: string, token: string): Promise<boolean>;
  /** clearStore(): removes every record of this store. */
  clear?(): Awaitable<void>;
  /** Called once by destroy(). */
  close?(): Awaitable<void>;
}

/** Options every store takes. */
export interface StoreCommonOptions {
  /** Period of the automatic flush in ms (1000 to 86400000), default 600000. */
  interval?: number;
  /** No automatic flush: only flush(), updateGlobalToken() and destroy() write. */
  noInterval?: boolean;
  /** Signatures kept in memory (least recently used clean ones leave first), default 10000. */
  maxSignatures?: number;
  /** Node: ms every backend call may take before it fails STORE_UNAVAILABLE, default 5000. */
  timeout?: number;
}

export interface StoreOptions extends StoreCommonOptions {
  /**
   * Where entries are written; none (or null) keeps them in memory only.
   * 'wx' (mini-program entry: wx storage) and 'localStorage' (web entry) name
   * the host's built-in backends; elsewhere they are BAD_CONFIG.
   */
  backend?: StoreBackend | 'wx' | 'localStorage' | null;
  /** Key prefix of the 'wx' and 'localStorage' backends, default 'wxsession:'. */
  prefix?: string;
}

/**
 * Every entry exports it. Node: use it at once. Mini-program and web:
 * `await init()` first, or the constructor throws INIT_FAILED.
 * Bad arguments reject with BAD_INPUT, bad options throw BAD_CONFIG, backend
 * failures reject with STORE_UNAVAILABLE or STORE_CORRUPT (memory keeps
 * serving), and every call after destroy() rejects with STORE_DESTROYED.
 */
export declare class Store {
  constructor(options?: StoreOptions);
  /** The backend in use, or null for a memory-only store. */
  readonly backend: StoreBackend | null;
  /** The global token, or {} when there is none. */
  getGlobalToken(): Promise<GlobalToken>;
  /** Merges `info` into the global token and flushes at once; resolves with the merged token. */
  updateGlobalToken(info: GlobalToken): Promise<GlobalToken>;
  /** The signature for `url`, or undefined (also when it was made with a jsapi_ticket that is no longer current). */
  getSignature(url: string): Promise<StoreInfo | undefined>;
  saveSignature(url: string, info: StoreInfo): Promise<StoreInfo>;
  /** Merges `info` into the stored signature; resolves with the result. */
  updateSignature(url: string, info: StoreInfo): Promise<StoreInfo>;
  isSignatureExisting(url: string): Promise<boolean>;
  getOAuthAccessToken(key: string): Promise<StoreInfo | undefined>;
  saveOAuthAccessToken(key: string, info: StoreInfo): Promise<StoreInfo>;
  /** Merges `info` into the stored OAuth token; resolves with the result. */
  updateOAuthAccessToken(key: string, info: StoreInfo): Promise<StoreInfo>;
  /** Node: wechat-jssdk's card api_ticket record ({} when none). */
  getCardTicket(): Promise<StoreInfo>;
  updateCardTicket(info: StoreInfo): Promise<StoreInfo>;
  /** Node: wechat-jssdk's mini-program session under `key` (the openid). */
  getMPSession(key: string): Promise<StoreInfo | undefined>;
  getMPSessionKey(key: string): Promise<string | undefined>;
  /**
   * Stores the session, written through at once; resolves with the one it replaced. Data without
   * `sessions` keeps the user's list of app sessions (wechat.sessions shares this record).
   */
  setMPSession(key: string, data: StoreInfo): Promise<StoreInfo | undefined>;
  /** Node: forgets everything here and clears the backend (its clear()). */
  clearStore(): Promise<void>;
  /**
   * Writes every dirty entry; a failed write stays dirty for the next flush.
   * Node: a flush nobody awaits never becomes an unhandled rejection.
   */
  flush(): Promise<void>;
  /** Flushes, stops the timer and closes the backend. */
  destroy(): Promise<void>;
}

export interface FileStoreOptions extends StoreCommonOptions {
  /** Default `${process.cwd()}/wechat-info.json`. */
  fileStorePath?: string;
  /** A file written for another appId is reset. */
  appId?: string;
}

/** Node entry only: one JSON file, written atomically (one process per file). */
export declare class FileStore extends Store {
  constructor(options?: FileStoreOptions);
}

export interface RedisStoreOptions extends StoreCommonOptions {
  /** Default 'redis://127.0.0.1:6379'. */
  url?: string;
  /** Keys are `${prefix}:${appId}:…`; default 'wxsession'. */
  prefix?: string;
  /** Required: scopes the keys, so apps sharing a Redis never mix credentials. */
  appId: string;
  /** ms for every Redis command, default 5000. */
  timeout?: number;
  /** An existing connected-or-not `redis` (node-redis 4+) client: used, never closed. */
  client?: unknown;
}

/** Node entry only: needs the optional peer dependency `redis`. */
export declare class RedisStore extends Store {
  constructor(options: RedisStoreOptions);
}

export interface MongoStoreOptions extends StoreCommonOptions {
  /** Default '127.0.0.1'. */
  dbHost?: string;
  /** Default 27017. */
  dbPort?: number;
  /** Default 'wechat'. */
  dbName?: string;
  /** A full connection string; replaces dbHost and dbPort. */
  dbAddress?: string;
  /** Passed to the MongoClient. */
  dbOptions?: Record<string, unknown>;
  /** Signatures preloaded at start, default 20. */
  limit?: number;
}

/** Node entry only: needs the optional peer dependency `mongodb`. */
export declare class MongoStore extends Store {
  constructor(options?: MongoStoreOptions);
  /** Settles when the `limit` freshest signatures are preloaded (a failure only means a cold cache). */
  readonly preloaded: Promise<void>;
}

// ---------------------------------------------------------------------------
// H5 clients: web entry only. Like Store, construct them after `await init()`
// (the constructor throws INIT_FAILED before). Bad options throw BAD_CONFIG.

export interface JssdkClientOptions {
  /** GET `${signatureUrl}?url=<encoded page URL>` (plus `&force=1` after an invalid signature) -> 2xx JSON {appId, timestamp, nonceStr, signature, expiresAt?}. */
  signatureUrl: string;
  /** The JS-SDK (jweixin); default `window.wx`. */
  wx?: { config(config: object): void; ready(fn: () => void): void; error(fn: (res: { errMsg: string }) => void): void };
  /** Which URL is signed: 'landing' (iOS WeChat checks the URL the page was entered with), 'current' (Android), or 'auto' (landing on iPhone/iPad/iPod). Default 'auto'. */
  urlMode?: 'auto' | 'current' | 'landing';
  /** The URL the page was entered with; default `location.href` when the entry was loaded. */
  landingUrl?: string;
  /** For 'auto'; default `navigator.userAgent`. */
  userAgent?: string;
  /** ms for the signature request and for wx.ready/wx.error to fire, default 10000. */
  timeout?: number;
  fetch?: typeof fetch;
}

export interface JssdkConfigOptions {
  jsApiList: string[];
  openTagList?: string[];
  debug?: boolean;
}

/**
 * Signatures are cached per URL in localStorage (the Token Store) until their
 * `expiresAt` (default 7000 s); an invalid one is dropped and fetched anew
 * once. config() rejects JSSDK_CONFIG (with `errMsg`), TIMEOUT, HTTP_ERROR
 * (with `status`) or NETWORK.
 */
export declare class JssdkClient {
  constructor(options: JssdkClientOptions);
  /** wx.config with a signature for signedUrl(); resolves on wx.ready. */
  config(options: JssdkConfigOptions): Promise<void>;
  /** The URL config() signs, without '#…'. */
  signedUrl(): string;
}

export interface OAuthClientOptions {
  appId: string;
  /** Where WeChat sends the user back (http or https). */
  redirectUri: string;
  scope?: 'snsapi_base' | 'snsapi_userinfo';
  /** POST JSON {code, state} -> 2xx JSON: your app's session (e.g. {token, openid}), never WeChat's access_token. */
  exchangeUrl: string;
  /** Keeps the state and the used code's answer; default sessionStorage. */
  storage?: { getItem(key: string): string | null; setItem(key: string, value: string): void; removeItem(key: string): void };
  fetch?: typeof fetch;
  /** Default 'https://open.weixin.qq.com/connect/oauth2/authorize'. */
  authorizeBase?: string;
  /** ms for the exchange, default 10000. */
  timeout?: number;
  /** How long an authorize URL's state stays usable, ms (1000 to 86400000), default 600000. */
  stateTtl?: number;
}

export declare class OAuthClient {
  constructor(options: OAuthClientOptions);
  /** WeChat's authorize URL with a fresh CSPRNG state (kept in storage for stateTtl; the latest one wins). */
  authorizeUrl(): string;
  /**
   * null when `href` has no code; else the exchange's answer, once per code
   * (concurrent calls and reloads share it). Rejects OAUTH_STATE (the backend
   * is never asked), HTTP_ERROR, NETWORK or TIMEOUT. Removes code and state
   * from the address bar with history.replaceState.
   */
  handleRedirect<T = Record<string, unknown>>(href?: string): Promise<T | null>;
}

// ---- Node entry: WeChat server credentials -------------------------------

/** A store object written for wechat-jssdk (its method names) also works. */
export interface WechatJssdkStoreLike {
  getGlobalToken(): Promise<StoreInfo>;
  updateGlobalToken(info: StoreInfo): Promise<StoreInfo>;
  getSignature(url: string): Promise<StoreInfo | undefined>;
  saveSignature(url: string, info: StoreInfo): Promise<StoreInfo>;
  getOAuthAccessToken(key: string): Promise<StoreInfo | undefined>;
  saveOAuthAccessToken(key: string, info: StoreInfo): Promise<StoreInfo>;
  updateOAuthAccessToken(key: string, info: StoreInfo): Promise<StoreInfo>;
}

export interface WechatOptions {
  appId: string;
  appSecret: string;
  /** Default: a FileStore at ${cwd}/wechat-info.json. RedisStore refreshes once across processes. */
  store?: Store | WechatJssdkStoreLike;
  /** Default 'https://api.weixin.qq.com'. */
  apiBase?: string;
  /** Use /cgi-bin/stable_token instead of /cgi-bin/token. */
  stableToken?: boolean;
  /** Per WeChat call, ms (default 10000). */
  timeout?: number;
  /** Refresh this many ms before WeChat's expiry (default 300000; never before half the life). */
  margin?: number;
  /**
   * Cross-process lease, ms (default timeout + 2 × the store's timeout + 1000);
   * below twice the store's timeout is BAD_CONFIG.
   */
  lockTtl?: number;
  /**
   * Re-read the shared record at most this often (ms, default 60000), to
   * adopt a refresh another process made; well under WeChat's ~5 min grace.
   */
  recheckInterval?: number;
  fetch?: typeof fetch;
  /** App sessions (`wechat.sessions`): their ttl and sliding renewal. */
  sessions?: SessionsOptions;
}

export interface JssdkSignature { appId: string; timestamp: string; nonceStr: string; signature: string; url: string }

export interface OAuthTokenInfo extends StoreInfo {
  access_token: string; refresh_token: string; openid: string; scope?: string; expires_in: number;
  unionid?: string;
  /** When the access_token is refreshed, and when WeChat stops taking it (epoch ms). */
  refreshAt: number; accessTokenExpiresAt: number;
  /** When the record itself expires: the refresh_token's 30 days. */
  expiresAt: number; modifyDate: number;
}

export declare class Wechat {
  constructor(options: WechatOptions);
  readonly appId: string;
  readonly store: Store | WechatJssdkStoreLike;
  /** From memory when usable and recently checked; `force` replaces the one stored (compare-and-expire). */
  getAccessToken(options?: { force?: boolean }): Promise<string>;
  getJsapiTicket(options?: { force?: boolean }): Promise<string>;
  /** Manual refresh of token and ticket; RATE_LIMITED past 5 per 2 h. */
  refresh(): Promise<void>;
  /** Any API taking access_token; retried once with a fresh token on 40001/40014/42001. */
  request<T = unknown>(path: string, options?: { method?: string; query?: Record<string, string>; body?: unknown }): Promise<T>;
  /** The signature is frozen; one per URL at a time, never one made with a replaced ticket. */
  jssdk: { getSignature(url: string, options?: { force?: boolean }): Promise<Readonly<JssdkSignature>> };
  oauth: {
    getAccessToken(code: string, key?: string): Promise<OAuthTokenInfo>;
    refreshAccessToken(key: string): Promise<OAuthTokenInfo>;
  };
  miniProgram: {
    code2Session(code: string): Promise<{ openid: string; sessionKey: string; unionid?: string }>;
    /** A getPhoneNumber button's code (once) -> the number; retried once with a fresh token on 40001/40014/42001. */
    getPhoneNumber(code: string): Promise<PhoneInfo>;
  };
  /** App sessions: the server half of the mini-program login. */
  readonly sessions: Sessions;
  /** Destroys the store if this instance created it. */
  close(): Promise<void>;
}
