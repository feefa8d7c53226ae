// Types of `wxsession/wechat-jssdk`: stores for wechat-jssdk 5's own
// Wechat, JSSDK, OAuth and MiniProgram (they pass its `instanceof Store`
// checks), each delegating to a wxsession store. Results are unfrozen copies.
import type { StoreInfo, StoreBackend, FileStoreOptions, RedisStoreOptions, MongoStoreOptions, StoreCommonOptions } from './node';

/** wechat-jssdk's option names, accepted beside ours. */
interface JssdkOptions {
  /** clearStore() at start (wechat-jssdk's option: credentials and signatures go, app and MP sessions stay); `store.ready` settles after. */
  clearStore?: boolean;
  /** Accepted; records are kept per appId already. */
  compareConfigKeys?: string[];
}

/** wechat-jssdk's second constructor argument: its config (appId is read from it). */
interface JssdkConfig { appId?: string; [key: string]: unknown }

export declare class Store {
  constructor(options?: StoreCommonOptions & JssdkOptions & { backend?: StoreBackend }, wechatConfig?: JssdkConfig);
  /** Settles once a `clearStore: true` start has cleared the store. */
  readonly ready: Promise<void>;
  getGlobalToken(): Promise<StoreInfo & { count: number }>;
  updateGlobalToken(info: StoreInfo): Promise<StoreInfo>;
  getSignature(url: string): Promise<StoreInfo | undefined>;
  saveSignature(url: string, info: StoreInfo): Promise<StoreInfo & { updated: true }>;
  updateSignature(url: string, info: StoreInfo): Promise<StoreInfo & { updated: true }>;
  isSignatureExisting(url: string): Promise<boolean>;
  getOAuthAccessToken(key: string): Promise<StoreInfo | undefined>;
  saveOAuthAccessToken(key: string, info: StoreInfo): Promise<StoreInfo>;
  updateOAuthAccessToken(key: string, info: StoreInfo): Promise<StoreInfo & { updated: true }>;
  getCardTicket(): Promise<StoreInfo | undefined>;
  updateCardTicket(info: StoreInfo): Promise<StoreInfo>;
  getMPSession(key: string): Promise<StoreInfo | undefined>;
  getMPSessionKey(key: string): Promise<string | undefined>;
  setMPSession(key: string, data: StoreInfo): Promise<StoreInfo | undefined>;
  /** Never an unhandled rejection when not awaited; rejects with its code when awaited. */
  flush(): Promise<void>;
  clearStore(): Promise<void>;
  destroy(): Promise<void>;
}
export declare class FileStore extends Store {
  constructor(options?: FileStoreOptions & JssdkOptions, wechatConfig?: JssdkConfig);
  readonly fileStorePath: string;
}
export declare class RedisStore extends Store {
  constructor(options: RedisStoreOptions & JssdkOptions, wechatConfig?: JssdkConfig);
}
/** Emits 'initialized' once its preload settles, as wechat-jssdk's MongoStore does. */
export declare class MongoStore extends Store {
  constructor(options?: MongoStoreOptions & JssdkOptions, wechatConfig?: JssdkConfig);
}
