// Types of the web entry (`wxsession` in a browser build): sessions over
// fetch and localStorage, the Token Store, and the H5 clients for JS-SDK
// config and OAuth. No signatures and no WeChat credentials: both need a
// server's secrets (node entry).
import type { Session, SessionOptionsBase } from './base';
import type { TokenStore, StoreBackend, StoreCommonOptions } from './store';

export type { SessionState, ErrorCode, WxSessionError, StorageBackend, SessionEvent, RequestOptions } from './base';
export type { StoreInfo, GlobalToken, StoreBackend, StoreCommonOptions } from './store';
export { Session, nonceStr } from './base';

export interface SessionOptions extends SessionOptionsBase {
  /** Where the login code comes from (a page has no wx.login). */
  getCode: () => Promise<string>;
  /** A page has no wx.checkSession. */
  checkSession?: 'never';
  /** URL of the .wasm; default next to web/index.js. */
  wasmUrl?: string | URL;
}

export declare function init(options?: { wasmUrl?: string | URL }): Promise<unknown>;
export declare function createSession(options: SessionOptions): Promise<Session>;

export interface StoreOptions extends StoreCommonOptions {
  /** Where entries are written: 'localStorage', your own backend, or none (memory only). */
  backend?: StoreBackend | 'localStorage' | null;
  /** Key prefix of the 'localStorage' backend, default 'wxsession:'. */
  prefix?: string;
}

/** The Token Store; construct it after `await init()` (INIT_FAILED before). */
export declare class Store extends TokenStore {
  constructor(options?: StoreOptions);
}

// H5 clients. Like Store, construct them after `await init()` (the
// constructor throws INIT_FAILED before). Bad options throw BAD_CONFIG.

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
