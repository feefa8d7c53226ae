// A mini-program consumer of `wxsession/miniprogram`: what must compile, and
// (each after @ts-expect-error) what must not.
import { createSession, init, nonceStr, DEFAULT_WASM_PATH, type Session, type SessionEvent, type WxSessionError, type UploadResult } from 'wxsession/miniprogram';
// @ts-expect-error no Token Store in a mini-program: it holds no server credentials
import { Store } from 'wxsession/miniprogram';
// @ts-expect-error signing needs the jsapi_ticket, a server's secret
import { signJsapi } from 'wxsession/miniprogram';

export async function main(): Promise<void> {
  await init({ wasmPath: DEFAULT_WASM_PATH });
  const events: SessionEvent[] = [];
  const session: Session = await createSession({
    baseUrl: 'https://api.example.com', loginUrl: '/auth/login', checkSession: 'once',
    onEvent: (e) => { events.push(e); },
  });
  const profile = await session.request<{ name: string }>({ url: '/api/profile' });
  const upload = session.uploadFile({
    url: '/api/avatar', filePath: 'wxfile://tmp_1', name: 'avatar', formData: { album: 'me' },
    onProgress: (p) => { const sent: number = p.totalBytesSent; void sent; },
  });
  upload.abort();
  const result: UploadResult = await upload;
  const body: string = result.data;
  const file = await session.downloadFile({ url: '/api/files/1', onProgress: (p) => { const n: number = p.totalBytesWritten; void n; } });
  const path: string | undefined = file.tempFilePath;
  try {
    await session.login({ force: true });
  } catch (e) {
    if ((e as WxSessionError).code === 'ABORTED') return;
  }
  const failed = events.filter((e) => e.error === 'SESSION_EXPIRED' || e.type === 'upload');
  void [profile.name, body, path, nonceStr(8), failed, Store, signJsapi];

  // @ts-expect-error wasmUrl is the web entry's: a mini-program loads the wasm from a code-package path
  await createSession({ baseUrl: 'https://api.example.com', loginUrl: '/l', wasmUrl: 'https://cdn.example.com/x.wasm' });
  // @ts-expect-error getCode is for web and node: a mini-program has wx.login
  await createSession({ baseUrl: 'https://api.example.com', loginUrl: '/l', getCode: async () => 'c' });
  // @ts-expect-error an upload needs the file's field name
  session.uploadFile({ url: '/api/avatar', filePath: 'wxfile://tmp_1' });
  // @ts-expect-error an upload's progress counts bytes sent, not written
  session.uploadFile({ url: '/u', filePath: 'f', name: 'n', onProgress: (p) => p.totalBytesWritten });
}
