// A browser consumer of `wxsession`: sessions, the Token Store, the H5
// clients; no uploads, no signing, no WeChat credentials.
import { createSession, init, Store, JssdkClient, OAuthClient, nonceStr, type SessionEvent } from 'wxsession';
// @ts-expect-error Wechat holds an app secret: node entry only
import { Wechat } from 'wxsession';
// @ts-expect-error signJsapi needs the jsapi_ticket, which a page never holds
import { signJsapi } from 'wxsession';

export async function main(): Promise<void> {
  await init({ wasmUrl: new URL('https://cdn.example.com/wxsession_bg.wasm') });
  const session = await createSession({
    baseUrl: 'https://api.example.com', loginUrl: '/auth/login', getCode: async () => 'code',
    onEvent: (e: SessionEvent) => e.durationMs,
  });
  await session.request({ url: '/api/a' });
  const store = new Store({ backend: 'localStorage' });
  await store.getSignature(location.href);
  await new JssdkClient({ signatureUrl: '/wechat/signature', urlMode: 'auto' }).config({ jsApiList: ['chooseImage'] });
  const oauth = new OAuthClient({ appId: 'wx1', redirectUri: location.href, exchangeUrl: '/auth/oauth' });
  await oauth.handleRedirect();
  void [nonceStr(), Wechat, signJsapi];

  // @ts-expect-error uploads run on wx.uploadFile: a mini-program session's
  session.uploadFile({ url: '/u', filePath: 'f', name: 'n' });
  // @ts-expect-error a page has no wx.login: getCode is required
  await createSession({ baseUrl: 'https://api.example.com', loginUrl: '/auth/login' });
  // @ts-expect-error a page has no wx.checkSession
  await createSession({ baseUrl: 'https://a.test', loginUrl: '/l', getCode: async () => 'c', checkSession: 'once' });
  // @ts-expect-error getCardTicket is the node Store's
  await store.getCardTicket();
}
