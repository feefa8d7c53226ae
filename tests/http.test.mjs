// The package's one fetch wrapper (src/js/shared/http.js), used by the web
// and node sessions and the H5 clients: one deadline that also aborts the
// fetch, and messages that never carry the query string.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fetchText, fetchJson } from '../src/js/shared/http.js';

const SECRET = 's3cr3t';

test('a failing fetch is NETWORK, and no query reaches the message, however the fetch repeated the URL', async () => {
  for (const message of [`request to https://a.test/x?code=${SECRET} failed, reason: ECONNREFUSED`,
    `Failed to parse URL from https://a.test/x?code=${SECRET}%20`, `bad 'https://a.test/x?a=1&code=${SECRET}'`]) {
    const err = await fetchText(() => Promise.reject(new Error(message)), `https://a.test/x?code=${SECRET}`, {}, 1000, 'GET https://a.test/x')
      .catch((e) => e);
    assert.equal(err.code, 'NETWORK');
    assert.equal(err.name, 'WxSessionError');
    assert.match(err.message, /^GET https:\/\/a\.test\/x failed: /);
    assert.doesNotMatch(err.message, new RegExp(SECRET));
    assert.equal(err.cause.message, message, 'the cause keeps what the fetch said');
  }
});

test('past the deadline: TIMEOUT, and the fetch is aborted', async () => {
  let signal;
  const t0 = Date.now();
  const err = await fetchText((url, init) => { signal = init.signal; return new Promise(() => {}); }, 'https://a.test/x?q=1', {}, 100, 'GET https://a.test/x')
    .catch((e) => e);
  assert.equal(err.code, 'TIMEOUT');
  assert.equal(err.message, 'GET https://a.test/x timed out after 100 ms');
  assert.ok(Date.now() - t0 < 1000);
  assert.equal(signal.aborted, true);
});

test('a fetch that answers something that is not a response is NETWORK', async () => {
  for (const answer of [undefined, {}, { status: 200 }, { status: '200', text: () => '' }]) {
    const err = await fetchText(async () => answer, 'https://a.test/', {}, 1000, 'GET https://a.test/').catch((e) => e);
    assert.equal(err.code, 'NETWORK', JSON.stringify(answer));
  }
});

test('fetchJson: GET data becomes the query, other data a JSON body, JSON answers are parsed; unserialisable data rejects', async () => {
  const seen = [];
  const fake = async (url, init) => {
    seen.push({ url, method: init.method, body: init.body, type: init.headers['content-type'] });
    return { status: 201, text: async () => '{"ok":true}' };
  };
  assert.deepEqual(await fetchJson(fake, { url: 'https://a.test/x?a=1', data: { b: 'c d' }, timeout: 1000 }), { status: 201, data: { ok: true } });
  await fetchJson(fake, { url: 'https://a.test/y', method: 'post', data: { n: 1 }, timeout: 1000 });
  assert.deepEqual(seen, [
    { url: 'https://a.test/x?a=1&b=c%20d', method: 'GET', body: undefined, type: undefined },
    { url: 'https://a.test/y', method: 'POST', body: '{"n":1}', type: 'application/json' },
  ]);
  const p = fetchJson(fake, { url: 'https://a.test/z?code=' + SECRET, method: 'POST', data: { n: 1n }, timeout: 1000 });
  const err = await p.catch((e) => e);
  assert.equal(err.code, 'NETWORK');
  assert.doesNotMatch(err.message, new RegExp(SECRET));
  assert.equal(seen.length, 2, 'nothing was sent');
});
