// Types of the node entry (`wxsession` under Node 20+): sessions over
// fetch with memory or a token file, the Token Store with its file, Redis
// and Mongo backends, WeChat's server credentials and the signatures made
// or checked with a server's secrets.
import type { Session, SessionOptionsBase } from './base';
import type { TokenStore, StoreInfo, StoreBackend, StoreCommonOptions } from './store';
import type { Sessions, SessionsOptions, PhoneInfo } from './sessions';
export * from './sessions';

export type { SessionState, ErrorCode, WxSessionError, StorageBackend, SessionEvent, RequestOptions } from './base';
export type { StoreInfo, GlobalToken, StoreBackend, StoreCommonOptions } from './store';
export { Session, nonceStr } from './base';

export interface SessionOptions extends SessionOptionsBase {
  /** Where the login code comes from (there is no wx.login). */
  getCode: () => Promise<string>;
  /** A server has no wx.checkSession. */
  checkSession?: 'never';
  /** File path of the .wasm; default the one in this package. */
  wasmPath?: string;
  /** Keep the token in this file (mode 0600, atomic writes) instead of memory. */
  storagePath?: string;
}

/** Optional: createSession and the constructors start the module themselves. */
export declare function init(options?: { wasmPath?: string }): Promise<unknown>;
export declare function createSession(options: SessionOptions): Promise<Session>;

/** sha1 for wx.config: keys sorted, values raw, the URL without '#…'. Throws BAD_INPUT for non-strings. */
export declare function signJsapi(params: { jsapiTicket: string; nonceStr: string; timestamp: string | number; url: string }): string;
/** sha1(rawData + sessionKey) === signature, in constant time; false (never a throw) for malformed input or an empty key. */
export declare function verifyRawData(rawData: string, signature: string, sessionKey: string): boolean;
/** sha1(sort(token, timestamp, nonce)) === signature, in constant time; false for malformed input or an empty token. */
export declare function verifyPushSignature(params: { token: string; timestamp: string | number; nonce: string; signature: string }): boolean;

export interface StoreOptions extends StoreCommonOptions {
  /** Where entries are written; none (or null) keeps them in memory only. */
  backend?: StoreBackend | null;
}

/** The Token Store; usable at once (the module starts synchronously). */
export declare class Store extends TokenStore {
  constructor(options?: StoreOptions);
  /** Signatures held in memory now. */
  readonly size: number;
  /** wechat-jssdk's card api_ticket record ({} when none). */
  getCardTicket(): Promise<StoreInfo>;
  updateCardTicket(info: StoreInfo): Promise<StoreInfo>;
  /** wechat-jssdk's mini-program session under `key` (the openid). */
  getMPSession(key: string): Promise<StoreInfo | undefined>;
  getMPSessionKey(key: string): Promise<string | undefined>;
  /** Stores the session; resolves with the one it replaced. */
  setMPSession(key: string, data: StoreInfo): Promise<StoreInfo | undefined>;
  /** wechat-jssdk's clearStore: forgets credentials and signatures here and in the backend (its clear()); app sessions, their index and MP sessions stay. */
  clearStore(): Promise<void>;
}

export interface FileStoreOptions extends StoreCommonOptions {
  /** Default `${process.cwd()}/wechat-info.json`. */
  fileStorePath?: string;
  /** A file written for another appId is reset. */
  appId?: string;
}

/** One JSON file, written atomically (one process per file). */
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

/** Needs the optional peer dependency `redis`. */
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

/** Needs the optional peer dependency `mongodb`. */
export declare class MongoStore extends Store {
  constructor(options?: MongoStoreOptions);
  /** Settles when the `limit` freshest signatures are preloaded (a failure only means a cold cache). */
  readonly preloaded: Promise<void>;
}

// ---- WeChat server credentials ---------------------------------------------

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
  /** App sessions: the server half of the mini-program login. Refused (BAD_CONFIG) on a store that is not ours. */
  readonly sessions: Sessions;
  /** Destroys the store if this instance created it. */
  close(): Promise<void>;
}
