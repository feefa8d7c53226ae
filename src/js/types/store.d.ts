// The Token Store's shared types (web and node entries): wechat-jssdk's
// Store API, with the cache logic in the Rust core.

/**
 * What a store keeps per entry: any JSON object. Node: results are the
 * stored object itself, deep-frozen (assigning to one throws in strict mode);
 * web: copies.
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
  /** clearStore(): removes this store's records except those under `sess:`, `idx:` and `mp:` (app sessions, their per-user index, MP sessions), which must stay. */
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

/**
 * The methods of every entry's Store. Bad arguments reject with BAD_INPUT,
 * bad options throw BAD_CONFIG, backend failures reject with
 * STORE_UNAVAILABLE or STORE_CORRUPT (memory keeps serving), and every call
 * after destroy() rejects with STORE_DESTROYED.
 */
export declare class TokenStore {
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
  /** Writes every dirty entry; a failed write stays dirty for the next flush. */
  flush(): Promise<void>;
  /** Flushes, stops the timer and closes the backend. */
  destroy(): Promise<void>;
}
