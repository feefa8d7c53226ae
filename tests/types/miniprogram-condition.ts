// A mini-program build that sets the `miniprogram` condition (TypeScript's
// customConditions, webpack's conditionNames, Vite's resolve.conditions):
// the bare `wxsession` is then the mini-program entry.
import { createSession } from 'wxsession';

export async function main(): Promise<void> {
  const session = await createSession({ baseUrl: 'https://api.example.com', loginUrl: '/auth/login' });
  await session.uploadFile({ url: '/api/avatar', filePath: 'wxfile://tmp_1', name: 'avatar' });
  // @ts-expect-error the mini-program entry has no H5 clients
  void (await import('wxsession')).JssdkClient;
}
