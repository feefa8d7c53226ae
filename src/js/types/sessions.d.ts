// Types for the node entry's app sessions (`wechat.sessions`) and
// decryptData. Request and response types are structural, so these
// declarations need neither @types/node nor a framework's types.

/** `new Wechat({ sessions })`. */
export interface SessionsOptions {
  /** How long a session lives, ms: 60000 (1 min) to 365 days; default 7 days. */
  ttl?: number;
  /** Sliding expiry: a session used after half its ttl lives another ttl (one write). Default true. */
  renew?: boolean;
}

/** What `verify()` answers (frozen), and each entry of `list()`. Never a token or the session_key. */
export interface AppSession<D = Record<string, unknown>> {
  openid: string;
  unionid?: string;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms; moves on a renewal. */
  expiresAt: number;
  /** What `login(code, { data })` or the login handler's `data()` kept with it. */
  data?: D;
}

export interface LoginResult {
  /** 32 random bytes, base64url (43 characters): the client's Bearer token. Stored only as its SHA-256. */
  token: string;
  /** Seconds (the ttl). */
  expiresIn: number;
  openid: string;
  unionid?: string;
}

/** The parts of node:http's request and response the handlers use (Express and Connect pass theirs). */
export interface HttpRequest {
  method?: string;
  headers: Record<string, string | string[] | undefined>;
  /** A body a parser already read (an object, or the text or bytes of express.text()/raw()); otherwise the handler reads it. */
  body?: unknown;
  on(event: string, listener: (...args: any[]) => void): unknown;
}
export interface HttpResponse {
  statusCode: number;
  readonly headersSent: boolean;
  setHeader(name: string, value: string | number): unknown;
  end(body?: string): unknown;
}
/** The part of a Koa context the Koa handlers use. */
export interface KoaContext {
  req: HttpRequest;
  res: HttpResponse;
  request: { body?: unknown };
  state: Record<string, any>;
  status: number;
  body: unknown;
  respond?: boolean;
  get(field: string): string;
  set(field: string, value: string): void;
}

export interface LoginHandlerOptions {
  /** What to keep with the session: a JSON object of at most 16 KiB, from the request body (`{code, ...}`). */
  data?: (body: Record<string, unknown>, req: HttpRequest) => Record<string, unknown> | undefined | Promise<Record<string, unknown> | undefined>;
  /** Body size cap, bytes, 64 to 1 MiB; default 16384. Over it: 413, the rest never read. */
  limit?: number;
  /** ms to receive the body, default 10000; slower: 408. */
  timeout?: number;
}

export interface GuardOptions {
  /** Where the session goes: `req[property]` / `ctx.state[property]`; default 'wxsession'. */
  property?: string;
}

/**
 * The server half of the mini-program login. Every method rejects with a
 * WxSessionError: UNAUTHORIZED (missing, malformed, unknown, expired or
 * revoked token), WECHAT_API (+ errcode), EXCHANGE_FAILED, HTTP_ERROR,
 * NETWORK, TIMEOUT, DECRYPT_FAILED, BAD_INPUT, BAD_CONFIG,
 * STORE_UNAVAILABLE, STORE_CORRUPT.
 */
export interface Sessions {
  /** jscode2session (once, however many callers share the code), then a new session. */
  login(code: string, options?: { data?: Record<string, unknown> }): Promise<LoginResult>;
  /** The session of a token: one read of the store's backend, so a revoke anywhere counts at once. */
  verify<D = Record<string, unknown>>(token: string): Promise<Readonly<AppSession<D>>>;
  revoke(token: string): Promise<void>;
  /** Ends every session of a user; resolves how many of them were live. */
  revokeUser(openid: string): Promise<number>;
  /** A user's live sessions, oldest first (at most 20). */
  list<D = Record<string, unknown>>(openid: string): Promise<AppSession<D>[]>;
  /** WeChat's encryptedData for the token's user, with the session_key the server kept; the watermark must name this app. */
  decrypt<T = Record<string, unknown>>(token: string, encryptedData: string, iv: string): Promise<T & { watermark: { appid: string; timestamp: number } }>;
  /** POST JSON {code, ...} -> 200 {token, expiresIn}; 400, 405, 408, 413, 502, 503, 504 as { code }. */
  loginHandler(options?: LoginHandlerOptions): (req: HttpRequest, res: HttpResponse) => void;
  /** Express/Connect/node:http guard: 401 with WWW-Authenticate: Bearer error="invalid_token" and { code }. A `next` that throws or returns a rejected promise gets a 500 { code: 'INTERNAL' }. */
  middleware(options?: GuardOptions): (req: HttpRequest, res: HttpResponse, next?: () => unknown) => void;
  /** The same guard for Koa: the session on ctx.state[property]. */
  koa(options?: GuardOptions): (ctx: KoaContext, next: () => Promise<unknown>) => Promise<void>;
  /** The login route for Koa (it writes the response itself). */
  koaLogin(options?: LoginHandlerOptions): (ctx: KoaContext) => Promise<void>;
}

/** What getuserphonenumber answers for a getPhoneNumber button's code. */
export interface PhoneInfo {
  phoneNumber: string;
  purePhoneNumber: string;
  countryCode: string;
  watermark: { appid: string; timestamp: number };
}

/**
 * WeChat's encrypted user data (AES-128-CBC under `sessionKey`, base64) as
 * an object whose watermark.appid is `appId`. Throws DECRYPT_FAILED for
 * anything else, BAD_INPUT for arguments that are not non-empty strings.
 */
export declare function decryptData<T = Record<string, unknown>>(encryptedData: string, iv: string, sessionKey: string, appId: string): T & { watermark: { appid: string; timestamp: number } };
