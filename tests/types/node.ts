// A Node consumer of `wxsession` and `wxsession/wechat-jssdk`: sessions,
// stores, WeChat credentials and signatures; no H5 clients, no uploads.
import { createSession, Store, FileStore, RedisStore, Wechat, signJsapi, verifyRawData, verifyPushSignature, nonceStr } from 'wxsession';
import { RedisStore as JssdkRedisStore } from 'wxsession/wechat-jssdk';
// @ts-expect-error the H5 clients need a page
import { JssdkClient } from 'wxsession';

export async function main(): Promise<void> {
  const session = await createSession({
    baseUrl: 'https://api.example.com', loginUrl: '/auth/login', getCode: async () => 'code', storagePath: '/tmp/token.json',
  });
  await session.request({ url: '/api/a' });
  const wechat = new Wechat({ appId: 'wx1', appSecret: 'secret', store: new RedisStore({ appId: 'wx1' }) });
  const sig = await wechat.jssdk.getSignature('https://example.com/');
  const signed: string = signJsapi({ jsapiTicket: 't', nonceStr: nonceStr(), timestamp: 1, url: sig.url });
  const ok: boolean = verifyRawData('{}', signed, 'key') && verifyPushSignature({ token: 't', timestamp: 1, nonce: 'n', signature: signed });
  await new FileStore({ fileStorePath: '/tmp/w.json' }).clearStore();
  await new Store().getCardTicket();
  void [ok, new JssdkRedisStore({ appId: 'wx1' }), JssdkClient];

  // @ts-expect-error uploads run on wx.uploadFile: a mini-program session's
  session.uploadFile({ url: '/u', filePath: 'f', name: 'n' });
  // @ts-expect-error wasmUrl is the web entry's
  await createSession({ baseUrl: 'https://a.test', loginUrl: '/l', getCode: async () => 'c', wasmUrl: 'x' });
}
