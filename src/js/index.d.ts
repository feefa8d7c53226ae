// Types for every entry (node, web, miniprogram): they share one API.

export type SessionState = 'anonymous' | 'logging-in' | 'authenticated';

export type ErrorCode =
  | 'LOGIN_FAILED' | 'EXCHANGE_FAILED' | 'UNAUTHORIZED' | 'HTTP_ERROR'
  | 'NETWORK' | 'TIMEOUT' | 'BAD_CONFIG' | 'RANDOM_UNAVAILABLE' | 'BAD_INPUT' | 'INIT_FAILED';

export interface WxSessionError extends Error {
  name: 'WxSessionError';
  code: ErrorCode;
  /** HTTP_ERROR, UNAUTHORIZED and a non-2xx EXCHANGE_FAILED. */
  status?: number;
  data?: unknown;
  cause?: unknown;
}

export interface StorageBackend {
  get(key: string): string | null;
  set(key: string, value: string): void;
  remove(key: string): void;
}

export interface SessionOptions {
  /** Prefix for relative request URLs, e.g. 'https://api.example.com'. */
  baseUrl?: string;
  /** Default exchange: POST JSON {code, ...exchangeBody()} -> 2xx JSON {token, expiresIn?}. */
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
  /** Node only: keep the token in this JSON file instead of memory. */
  storagePath?: string;
  /** Web and node: a storage of your own (sync get/set/remove). */
  storage?: StorageBackend;
}

export interface RequestOptions {
  url: string;
  method?: string;
  data?: unknown;
  header?: Record<string, string>;
  timeout?: number;
}

export declare class Session {
  readonly state: SessionState;
  request<T = unknown>(options: RequestOptions): Promise<T>;
  login(options?: { force?: boolean }): Promise<void>;
  logout(): Promise<void>;
  onChange(listener: (state: SessionState) => void): () => void;
}

export declare function init(options?: { wasmPath?: string; wasmUrl?: string | URL; timeout?: number }): Promise<unknown>;
export declare function createSession(options: SessionOptions): Promise<Session>;
/** A CSPRNG string of [A-Za-z0-9], default length 16. */
export declare function nonceStr(length?: number): string;
