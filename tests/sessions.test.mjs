// `wechat.sessions` of the built node entry (pkg/node/index.cjs) against
// the strict fake WeChat API: the contract of login, verify, revoke,
// revokeUser and decrypt, getPhoneNumber, and the standalone decryptData.
// HTTP handlers and stores are in sessions-http.test.mjs, the mini-program
// end to end in sessions-e2e.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDecipheriv, randomBytes, randomInt } from 'node:crypto';
import { startFakeWechat } from './support/fake-wechat-api.mjs';
import { wxsession, APP, TOKEN_SHAPE, shiftedClock, encrypt, rejects, keyRing } from './support/sessions-kit.mjs';

const DAY = 86_400_000;

/** A fake WeChat, a Wechat on `store` (memory by default) and the keys it handed out. */
async function world(body, { store, sessions, fakeOptions } = {}) {
  const fake = await startFakeWechat(fakeOptions);
  const wechat = new wxsession.Wechat({ ...APP, store: store || new wxsession.Store(), apiBase: fake.url, sessions });
  const ring = keyRing(fake);
  const login = async (openid, options) => {
    const s = await wechat.sessions.login(fake.issueCode({ openid, unionid: 'u_' + openid }), options);
    ring.note(openid);
    return s;
  };
  try {
    await body({ fake, wechat, sessions: wechat.sessions, login, secrets: ring.keys, ring });
  } finally {
    await wechat.store.destroy?.();
    await fake.close();
  }
}

async function withFileStore(body) {
  const dir = mkdtempSync(join(tmpdir(), 'wxsession-sessions-'));
  try {
    await body(new wxsession.FileStore({ fileStorePath: join(dir, 'wechat-info.json'), appId: APP.appId }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('login → verify → revoke; revokeUser ends every session of one user and no other', () => world(async ({ sessions, login, secrets }) => {
  const before = Date.now();
  const s = await login('o_alice', { data: { role: 'buyer' } });
  assert.match(s.token, TOKEN_SHAPE, '32 random bytes, base64url: safe in any header');
  assert.deepEqual({ ...s, token: 'T' }, { token: 'T', expiresIn: 7 * 86400, openid: 'o_alice', unionid: 'u_o_alice' });
  const v = await sessions.verify(s.token);
  assert.ok(Object.isFrozen(v));
  assert.deepEqual(Object.keys(v).sort(), ['createdAt', 'data', 'expiresAt', 'openid', 'unionid']);
  assert.deepEqual([v.openid, v.unionid, v.data], ['o_alice', 'u_o_alice', { role: 'buyer' }]);
  assert.ok(v.createdAt >= before && v.createdAt <= Date.now());
  assert.equal(v.expiresAt, v.createdAt + 7 * DAY);

  assert.equal(await sessions.revoke(s.token), undefined);
  await rejects(sessions.verify(s.token), 'UNAUTHORIZED', secrets);
  assert.equal(await sessions.revoke(s.token), undefined, 'revoking twice is harmless');

  const [phone, laptop, bob] = [await login('o_alice'), await login('o_alice'), await login('o_bob')];
  assert.notEqual(phone.token, laptop.token);
  const listed = await sessions.list('o_alice');
  assert.deepEqual(listed.map((x) => [x.openid, x.createdAt < x.expiresAt]), [['o_alice', true], ['o_alice', true]], 'the live ones: not the revoked first');
  assert.ok(!/session_?key|token/i.test(JSON.stringify(listed)));
  assert.equal(await sessions.revokeUser('o_alice'), 2, 'the live sessions it ended');
  assert.deepEqual(await sessions.list('o_alice'), []);
  for (const t of [phone.token, laptop.token]) await rejects(sessions.verify(t), 'UNAUTHORIZED', secrets);
  assert.equal((await sessions.verify(bob.token)).openid, 'o_bob', 'another user is untouched');
  assert.equal(await sessions.revokeUser('o_nobody'), 0);
  await rejects(sessions.revokeUser(''), 'BAD_INPUT');
}));

test('concurrent logins with one code make one jscode2session and share one token; the code is spent after', () => world(async ({ fake, sessions }) => {
  const code = fake.issueCode({ openid: 'o_burst' });
  const all = await Promise.all(Array.from({ length: 25 }, () => sessions.login(code)));
  assert.equal(fake.counts.code2Session, 1);
  assert.equal(new Set(all.map((s) => s.token)).size, 1);
  assert.equal((await sessions.verify(all[0].token)).openid, 'o_burst');
  const again = await rejects(sessions.login(code), 'WECHAT_API');
  assert.equal(again.errcode, 40163);
  assert.equal(fake.counts.code2Session, 2);
}));

test("verify's result, login's result and decrypt's result never contain the session_key", () => world(async ({ fake, sessions, login, ring }) => {
  const s = await login('o_keys', { data: { note: 'hello' } });
  const key = ring.note('o_keys');
  const { encryptedData, iv } = fake.encryptFor('o_keys', { stepInfoList: [{ step: 1 }] });
  for (const result of [s, await sessions.verify(s.token), await sessions.decrypt(s.token, encryptedData, iv)]) {
    const text = JSON.stringify(result);
    assert.ok(!text.includes(key), text);
    assert.ok(!/session_?key/i.test(text), text);
  }
}));

for (const kind of ['memory', 'FileStore']) {
  test(`${kind}: a new login replaces the stored session_key, and wechat-jssdk's MP session API reads and writes the same record`, async () => {
    const run = (store) => world(async ({ fake, wechat, sessions, login, ring, secrets }) => {
      const first = await login('o_rot');
      const k1 = ring.note('o_rot');
      const second = await login('o_rot'); // another device: WeChat rotates the key
      const k2 = ring.note('o_rot');
      assert.notEqual(k1, k2);
      assert.equal(await wechat.store.getMPSessionKey('o_rot'), k2);
      const mp = await wechat.store.getMPSession('o_rot');
      assert.deepEqual([mp.openid, mp.session_key, mp.unionid], ['o_rot', k2, 'u_o_rot']);
      // The first device's token decrypts what WeChat encrypted under the newest key.
      const data = fake.encryptFor('o_rot', { phoneNumber: '13800000000' });
      assert.equal((await sessions.decrypt(first.token, data.encryptedData, data.iv)).phoneNumber, '13800000000');
      // What wechat-jssdk's MiniProgram.getSession stores after its own jscode2session.
      const k3 = randomBytes(16).toString('base64');
      secrets.push(k3);
      const old = await wechat.store.setMPSession('o_rot', { openid: 'o_rot', session_key: k3 });
      assert.equal(old.session_key, k2, 'setMPSession resolves the record it replaced');
      assert.equal(await wechat.store.getMPSessionKey('o_rot'), k3);
      const iv = randomBytes(16);
      const mine = encrypt(k3, iv, JSON.stringify({ n: 3, watermark: { appid: APP.appId, timestamp: 1 } }));
      assert.equal((await sessions.decrypt(second.token, mine, iv.toString('base64'))).n, 3, 'decrypt reads what setMPSession wrote');
      assert.equal(await sessions.revokeUser('o_rot'), 2, "wechat-jssdk's write kept the user's session list");
      await rejects(sessions.verify(first.token), 'UNAUTHORIZED', secrets);
      await rejects(sessions.verify(second.token), 'UNAUTHORIZED', secrets);
    }, { store });
    if (kind === 'memory') await run(new wxsession.Store());
    else await withFileStore(run);
  });
}

test('FileStore: after a revokeUser the next login of that user is stored at once, so decrypt and another revokeUser see it', () => withFileStore((store) => world(async ({ fake, sessions, login, secrets }) => {
  await login('o_again');
  assert.equal(await sessions.revokeUser('o_again'), 1);
  const next = await login('o_again');
  const data = fake.encryptFor('o_again', { n: 2 });
  assert.equal((await sessions.decrypt(next.token, data.encryptedData, data.iv)).n, 2, 'the newest session_key is in the file');
  assert.equal(await sessions.revokeUser('o_again'), 1);
  await rejects(sessions.verify(next.token), 'UNAUTHORIZED', secrets);
}, { store })));

test('decrypt: a foreign watermark, bad padding, bad JSON, bad base64 or a wrong iv is DECRYPT_FAILED, and no error shows the key', () => world(async ({ fake, sessions, login, ring, secrets }) => {
  const s = await login('o_dec');
  const key = ring.note('o_dec');
  const iv = randomBytes(16), ivText = iv.toString('base64');
  const good = (plain) => encrypt(key, iv, plain);
  const mark = { appid: APP.appId, timestamp: 1 };
  // Whole blocks whose last byte claims 3 bytes of padding that are not all 3.
  const json = JSON.stringify({ watermark: mark });
  const badPad = Buffer.concat([Buffer.from(json.padEnd(Math.ceil((json.length + 3) / 16) * 16 - 3, ' ')), Buffer.from([1, 3, 3])]);
  assert.equal(badPad.length % 16, 0);
  const foreign = fake.encryptFor('o_dec', { phoneNumber: '1' }, { watermarkAppId: 'wx_someone_else' });
  const cases = [
    ['a watermark for another app', foreign.encryptedData, foreign.iv],
    ['no watermark', good(JSON.stringify({ phoneNumber: '1' })), ivText],
    ['bad padding', encrypt(key, iv, badPad, { pad: false }), ivText],
    ['not JSON', good('phoneNumber=1'), ivText],
    ['a JSON array', good(JSON.stringify([{ watermark: mark }])), ivText],
    ['not base64', '%%%%' + good(JSON.stringify({ watermark: mark })).slice(4), ivText],
    ['base64 with whitespace', good(JSON.stringify({ watermark: mark })).replace(/(.{8})/, '$1\n'), ivText],
    ['not whole blocks', good(JSON.stringify({ watermark: mark })).slice(0, -4), ivText],
    ['another iv', good(JSON.stringify({ watermark: mark, pad: 'x'.repeat(40) })), randomBytes(16).toString('base64')],
    ['a short iv', good(JSON.stringify({ watermark: mark })), randomBytes(8).toString('base64')],
  ];
  for (const [what, data, v] of cases) {
    const err = await rejects(sessions.decrypt(s.token, data, v), 'DECRYPT_FAILED', secrets);
    assert.ok(!/[A-Za-z0-9+/]{22}==/.test(err.message), `${what}: the message quotes no key or iv: ${err.message}`);
  }
  assert.equal((await sessions.decrypt(s.token, good(JSON.stringify({ watermark: mark, ok: 1 })), ivText)).ok, 1);
  await rejects(sessions.decrypt(s.token, '', ivText), 'BAD_INPUT');
  await rejects(sessions.decrypt(s.token, 'A'.repeat(400 * 1024), ivText), 'BAD_INPUT');
  await sessions.revoke(s.token);
  await rejects(sessions.decrypt(s.token, foreign.encryptedData, foreign.iv), 'UNAUTHORIZED', secrets);
}));

test('getPhoneNumber: a code works once; a token WeChat rejects (40001) is replaced and the call retried once', () => world(async ({ fake, wechat }) => {
  const code = fake.issuePhoneCode({ phoneNumber: '13912345678' });
  const info = await wechat.miniProgram.getPhoneNumber(code);
  assert.deepEqual([info.phoneNumber, info.purePhoneNumber, info.countryCode, info.watermark.appid], ['13912345678', '13912345678', '86', APP.appId]);
  const used = await rejects(wechat.miniProgram.getPhoneNumber(code), 'WECHAT_API', [APP.appSecret, code]);
  assert.equal(used.errcode, 40029);
  assert.deepEqual([fake.counts.token, fake.counts.phoneNumber], [1, 2]);
  fake.invalidateTokens();
  assert.equal((await wechat.miniProgram.getPhoneNumber(fake.issuePhoneCode({ phoneNumber: '13700000000' }))).phoneNumber, '13700000000');
  assert.deepEqual([fake.counts.token, fake.counts.phoneNumber], [2, 4], 'one refused with 40001, one answered after the new token');
  await rejects(wechat.miniProgram.getPhoneNumber(''), 'BAD_INPUT');
  await rejects(wechat.miniProgram.getPhoneNumber(42), 'BAD_INPUT');
}));

// WeChat's published example (open-ability/signature), as in src/core/wxcrypt.rs.
const EXAMPLE = {
  appId: 'wx4f4bc4dec97d474b', sessionKey: 'tiihtNczf5v6AKRyjwEUhQ==', iv: 'r7BXXKkLb8qrSNn05n0qiA==',
  encryptedData: 'CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew==',
};

test("decryptData decrypts WeChat's published example and refuses it for another appId", async () => {
  const { appId, sessionKey, iv, encryptedData } = EXAMPLE;
  const user = wxsession.decryptData(encryptedData, iv, sessionKey, appId);
  assert.equal(user.openId, 'oGZUI0egBJY1zhBYw2KhdUfwVJJE');
  assert.equal(user.nickName, 'Band');
  assert.equal(user.watermark.appid, appId);
  const plain = createDecipheriv('aes-128-cbc', Buffer.from(sessionKey, 'base64'), Buffer.from(iv, 'base64'));
  assert.deepEqual(user, JSON.parse(Buffer.concat([plain.update(encryptedData, 'base64'), plain.final()]).toString('utf8')));
  await rejects(Promise.resolve().then(() => wxsession.decryptData(encryptedData, iv, sessionKey, 'wx_other')), 'DECRYPT_FAILED', [sessionKey]);
  for (const args of [[encryptedData, iv, sessionKey], [42, iv, sessionKey, appId], [encryptedData, iv, '', appId]]) {
    await rejects(Promise.resolve().then(() => wxsession.decryptData(...args)), 'BAD_INPUT');
  }
});

/** node:crypto's answer for the same input: the object, or null where decryptData must refuse. */
function nodeDecrypt(data, iv, key, appId) {
  try {
    const d = createDecipheriv('aes-128-cbc', Buffer.from(key, 'base64'), Buffer.from(iv, 'base64'));
    const text = Buffer.concat([d.update(Buffer.from(data, 'base64')), d.final()]).toString('utf8');
    const obj = JSON.parse(text);
    return obj && typeof obj === 'object' && !Array.isArray(obj) && obj.watermark && obj.watermark.appid === appId ? obj : null;
  } catch {
    return null;
  }
}

const randomText = (n) => Array.from({ length: n }, () => String.fromCodePoint([randomInt(32, 127), randomInt(0x4e00, 0x9fff), randomInt(0x1f300, 0x1f5ff)][randomInt(3)])).join('');

test('decryptData matches node:crypto on random payloads, keys and ivs, on tampered ciphertexts and on random bytes', () => {
  const appId = 'wx_random_app';
  let agreedOk = 0, agreedRefused = 0;
  const check = (data, iv, key) => {
    const theirs = nodeDecrypt(data, iv, key, appId);
    let ours = null;
    try {
      ours = wxsession.decryptData(data, iv, key, appId);
    } catch (err) {
      assert.equal(err.code, 'DECRYPT_FAILED', err.message);
      assert.ok(!err.message.includes(key));
    }
    assert.deepEqual(ours, theirs, JSON.stringify({ data: data.slice(0, 40), iv, key }));
    if (ours) agreedOk++; else agreedRefused++;
  };
  for (let i = 0; i < 300; i++) {
    const key = randomBytes(16).toString('base64'), iv = randomBytes(16);
    const payload = { nickName: randomText(randomInt(0, 40)), list: Array.from({ length: randomInt(0, 30) }, (_, j) => ({ j, s: randomText(randomInt(0, 20)) })), watermark: { appid: randomInt(4) ? appId : 'wx_elsewhere', timestamp: randomInt(2 ** 31) } };
    const data = encrypt(key, iv, JSON.stringify(payload));
    check(data, iv.toString('base64'), key);
    // One bit flipped in the last two blocks: CBC carries it into the padding or the JSON's tail.
    const bytes = Buffer.from(data, 'base64');
    bytes[bytes.length - 1 - randomInt(Math.min(32, bytes.length))] ^= 1 << randomInt(8);
    check(bytes.toString('base64'), iv.toString('base64'), key);
    check(randomBytes(16 * randomInt(1, 8)).toString('base64'), iv.toString('base64'), key);
  }
  assert.ok(agreedOk > 150 && agreedRefused > 300, JSON.stringify({ agreedOk, agreedRefused }));
});

test('expiry and sliding renewal, on a clock the test moves: used past half its life a session lives another ttl; unused it expires', async (t) => {
  const clock = shiftedClock();
  t.after(() => clock.restore());
  const ttl = 60_000;
  const check = (store, renew) => world(async ({ sessions, login, secrets }) => {
    const used = await login('o_clock'), idle = await login('o_clock');
    const t0 = (await sessions.verify(used.token)).createdAt;
    assert.equal(used.expiresIn, 60);
    clock.advance(20_000); // 40 s left of 60: not yet half
    assert.equal((await sessions.verify(used.token)).expiresAt, t0 + ttl, 'no write before half its life');
    clock.advance(15_000); // 25 s left: renewed
    const asked = Date.now();
    const renewed = (await sessions.verify(used.token)).expiresAt;
    if (renew) assert.ok(renewed >= asked + ttl && renewed <= Date.now() + ttl, 'a whole ttl from when it was used');
    else assert.equal(renewed, t0 + ttl);
    clock.advance(30_000); // t0 + 65 s: past the first expiry
    await rejects(sessions.verify(idle.token), 'UNAUTHORIZED', secrets);
    if (!renew) return rejects(sessions.verify(used.token), 'UNAUTHORIZED', secrets);
    assert.equal((await sessions.verify(used.token)).openid, 'o_clock', 'the renewed session outlives its first expiry');
    clock.advance(ttl + 1);
    await rejects(sessions.verify(used.token), 'UNAUTHORIZED', secrets);
  }, { store, sessions: { ttl, renew } });
  await check(new wxsession.Store(), true);
  await check(new wxsession.Store(), false);
  await withFileStore((store) => check(store, true));
});

test('sessions options are checked: ttl from 60000 ms to 365 days, renew a boolean, no unknown keys', () => world(async ({ fake, sessions }) => {
  for (const bad of [{ ttl: 59_999 }, { ttl: 366 * DAY }, { ttl: 1.5e6 + 0.5 }, { renew: 'yes' }, { tll: 60_000 }, null, 'x']) {
    assert.throws(() => new wxsession.Wechat({ ...APP, store: new wxsession.Store(), apiBase: fake.url, sessions: bad }), (e) => e.code === 'BAD_CONFIG', JSON.stringify(bad));
  }
  for (const bad of [{ data: 'x' }, { dta: {} }]) await rejects(sessions.login('c', bad), 'BAD_CONFIG');
  const circular = {};
  circular.self = circular;
  await rejects(sessions.login('c', { data: circular }), 'BAD_INPUT');
  await rejects(sessions.login('c', { data: { big: 'x'.repeat(17 * 1024) } }), 'BAD_INPUT');
  for (const code of ['', 42, 'x'.repeat(513), undefined]) await rejects(sessions.login(code), 'BAD_INPUT');
  for (const h of [() => sessions.loginHandler({ limit: 10 }), () => sessions.middleware({ prop: 'x' }), () => sessions.koa({ property: '' })]) {
    assert.throws(h, (e) => e.code === 'BAD_CONFIG');
  }
}));

test('hostile tokens are UNAUTHORIZED: forged, truncated, extended, from another app, replayed after a revoke, header-breaking, not strings', async () => {
  const other = await startFakeWechat({ appId: 'wx_other_app', appSecret: 'other_secret' });
  const elsewhere = new wxsession.Wechat({ appId: 'wx_other_app', appSecret: 'other_secret', store: new wxsession.Store(), apiBase: other.url });
  try {
    const foreign = await elsewhere.sessions.login(other.issueCode({ openid: 'o_shared' }));
    await world(async ({ sessions, login, secrets }) => {
      const s = await login('o_shared');
      const revoked = await login('o_gone');
      await sessions.revoke(revoked.token);
      const hostile = {
        forged: randomBytes(32).toString('base64url'),
        truncated: s.token.slice(0, -1),
        extended: s.token + 'A',
        'base64 instead of base64url': Buffer.from(s.token, 'base64url').toString('base64'),
        'another app': foreign.token,
        'replayed after revoke': revoked.token,
        'CR LF': s.token + '\r\nX-Injected: 1',
        'CR LF inside': s.token.slice(0, 20) + '\r\n' + s.token.slice(22),
        '€': '€'.repeat(43),
        'Bearer prefix': 'Bearer ' + s.token,
        NUL: s.token.slice(0, 42) + '\0',
        '1 MB': 'A'.repeat(1 << 20),
      };
      for (const [what, token] of Object.entries(hostile)) {
        await rejects(sessions.verify(token), 'UNAUTHORIZED', secrets).catch((e) => assert.fail(`${what}: ${e.message}`));
        await rejects(sessions.decrypt(token, 'AAAAAAAAAAAAAAAAAAAAAA==', 'AAAAAAAAAAAAAAAAAAAAAA=='), 'UNAUTHORIZED', secrets);
      }
      for (const token of [undefined, null, 42, {}, [], Buffer.from(s.token)]) {
        await rejects(sessions.verify(token), 'UNAUTHORIZED');
        await rejects(sessions.revoke(token), 'UNAUTHORIZED');
      }
      assert.equal((await sessions.verify(s.token)).openid, 'o_shared', 'the genuine token still works');
      assert.equal((await elsewhere.sessions.verify(foreign.token)).openid, 'o_shared', 'and the other app keeps its own');
    });
  } finally {
    await elsewhere.store.destroy();
    await other.close();
  }
});

test('WeChat refusing or answering badly: coded errors with the errcode, never the code, the secret or a session_key', async () => {
  await world(async ({ fake, sessions, secrets }) => {
    const unknown = await rejects(sessions.login('never-issued'), 'WECHAT_API', secrets);
    assert.equal(unknown.errcode, 40029);
    const code = fake.issueCode({ openid: 'o_x' });
    fake.failNext('code2Session', { httpStatus: 502 });
    await rejects(sessions.login(code), 'HTTP_ERROR', [...secrets, code]);
    fake.failNext('code2Session', { errcode: 45011, errmsg: 'api minute-quota reach limit' });
    const limited = await rejects(sessions.login(fake.issueCode({ openid: 'o_x' })), 'WECHAT_API', secrets);
    assert.equal(limited.errcode, 45011);
  });
  // A jscode2session reply without a session_key is no session at all.
  const reply = (body) => async () => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  for (const body of [{ openid: 'o_only' }, { session_key: 'a2V5a2V5a2V5a2V5a2V5aw==' }, { openid: 'o\nx', session_key: 'a2V5a2V5a2V5a2V5a2V5aw==' }]) {
    const wechat = new wxsession.Wechat({ ...APP, store: new wxsession.Store(), fetch: reply(body) });
    await rejects(wechat.sessions.login('some-code'), 'EXCHANGE_FAILED', ['a2V5a2V5a2V5a2V5a2V5aw==']);
  }
});
