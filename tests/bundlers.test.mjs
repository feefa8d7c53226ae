// The package as a mini-program framework consumes it: a small app bundled
// with real webpack 5 (Taro's bundler) and real Vite 7 (uni-app's) for a
// mini-program target, the .wasm.br copied as an asset, the output run in the
// strict sandbox (no WebAssembly, no fetch, no URL, no TextDecoder,
// path-only WXWebAssembly) against a real backend.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, cpSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import webpack from 'webpack';
import { build as viteBuild, defaultClientConditions } from 'vite';
import { ROOT, PKG } from './support/harness.mjs';
import { createSandbox } from './support/miniprogram-sandbox.mjs';
import { createWx } from './support/fake-wx.mjs';
import { WeChatAccounts } from './support/wechat-accounts.mjs';
import { startAppBackend } from './support/app-backend.mjs';

const WASM_AT = 'wxsession/wxsession_bg.wasm.br';
const dirs = [];
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

/** A consumer project with the package installed (copied, as npm would) and app.js importing `spec`. */
function project(spec) {
  const dir = mkdtempSync(join(tmpdir(), 'wxsession-bundle-'));
  dirs.push(dir);
  cpSync(PKG, join(dir, 'node_modules', 'wxsession'), { recursive: true });
  const app = readFileSync(join(ROOT, 'tests', 'bundlers', 'app.js'), 'utf8').replace("'WXSESSION_IMPORT'", JSON.stringify(spec));
  writeFileSync(join(dir, 'app.js'), app);
  writeFileSync(join(dir, 'package.json'), '{ "name": "consumer", "private": true }\n');
  // Found through the package's exports, as a build config would.
  const wasm = createRequire(join(dir, 'package.json')).resolve('wxsession/miniprogram/wxsession_bg.wasm.br');
  return { dir, dist: join(dir, 'dist'), wasm };
}

async function bundleWithWebpack(p, conditionNames) {
  const { sources, Compilation } = webpack;
  const config = {
    mode: 'production', context: p.dir, entry: './app.js', target: ['web', 'es2017'], devtool: false,
    // As Taro sets them: no script tags to guess a publicPath from, and wx
    // instead of self or window.
    output: { path: p.dist, filename: 'app.js', publicPath: '/', globalObject: 'wx' },
    performance: { hints: false },
    resolve: conditionNames ? { conditionNames } : {},
    plugins: [{
      // The copy step (Taro: `copy.patterns`; plain webpack: copy-webpack-plugin).
      apply(compiler) {
        compiler.hooks.thisCompilation.tap('copy-wasm', (compilation) => {
          compilation.hooks.processAssets.tap({ name: 'copy-wasm', stage: Compilation.PROCESS_ASSETS_STAGE_ADDITIONAL }, () => {
            compilation.emitAsset(WASM_AT, new sources.RawSource(readFileSync(p.wasm)));
          });
        });
      },
    }],
  };
  const stats = await new Promise((resolve, reject) => webpack(config, (err, s) => (err ? reject(err) : resolve(s))));
  assert.ok(!stats.hasErrors(), stats.toString('errors-only'));
}

async function bundleWithVite(p, conditions) {
  await viteBuild({
    root: p.dir, configFile: false, logLevel: 'silent',
    resolve: conditions ? { conditions } : {},
    // uni-app builds a mini-program in library mode, as CommonJS.
    build: {
      outDir: p.dist, emptyOutDir: true, target: 'es2017', minify: true,
      lib: { entry: join(p.dir, 'app.js'), formats: ['cjs'], fileName: () => 'app.js' },
    },
    plugins: [{
      // The copy step (uni-app: src/static/, or a plugin like this one).
      name: 'copy-wasm',
      generateBundle() { this.emitFile({ type: 'asset', fileName: WASM_AT, source: readFileSync(p.wasm) }); },
    }],
  });
}

/** Runs the bundle as a device would and uses the session it opens. */
async function runInSandbox(p) {
  const code = readFileSync(join(p.dist, 'app.js'), 'utf8');
  const at = (target) => transformSync(code, { target, format: 'cjs' }).code;
  assert.ok(at('es2017') === at('esnext'), 'the bundle needs lowering to run on ES2017');
  assert.ok(existsSync(join(p.dist, WASM_AT)), 'the .wasm.br was copied');
  const accounts = new WeChatAccounts();
  const backend = await startAppBackend({ accounts });
  try {
    const wx = createWx({ accounts });
    const sandbox = createSandbox({ projectRoot: p.dist, wx });
    for (const name of ['WebAssembly', 'fetch', 'URL', 'TextDecoder']) assert.equal(sandbox.evaluate(`typeof ${name}`), 'undefined', name);
    sandbox.run('app.js');
    sandbox.app.onLaunch.call(sandbox.app, { query: { backend: backend.url } });
    const session = await sandbox.app.sessionReady;
    const filePath = wx.writeTempFile('photo');
    const [a, up, down] = await Promise.all([
      session.request({ url: '/api/a' }),
      session.uploadFile({ url: '/api/upload', filePath, name: 'f' }),
      session.downloadFile({ url: '/api/files/3' }),
    ]);
    assert.ok(a.ok);
    assert.equal(up.statusCode, 201);
    assert.equal(wx.files.get(down.tempFilePath).length, 3);
    assert.equal(wx.calls.login, 1);
    return { wx, backend };
  } finally {
    await backend.close();
  }
}

test('webpack 5: `wxsession/miniprogram` for a mini-program target runs in the strict sandbox', async () => {
  const p = project('wxsession/miniprogram');
  await bundleWithWebpack(p);
  await runInSandbox(p);
});

test('webpack 5: the bare `wxsession` with the `miniprogram` condition', async () => {
  const p = project('wxsession');
  await bundleWithWebpack(p, ['miniprogram', '...']);
  await runInSandbox(p);
});

test('vite 7: `wxsession/miniprogram` in library mode as CommonJS runs in the strict sandbox', async () => {
  const p = project('wxsession/miniprogram');
  await bundleWithVite(p);
  await runInSandbox(p);
});

test('vite 7: the bare `wxsession` with the `miniprogram` condition', async () => {
  const p = project('wxsession');
  await bundleWithVite(p, ['miniprogram', ...defaultClientConditions]);
  await runInSandbox(p);
});

test('without either, both pick the web entry, which cannot even load in a mini-program', async () => {
  for (const bundle of [bundleWithWebpack, bundleWithVite]) {
    const p = project('wxsession');
    await bundle(p);
    const sandbox = createSandbox({ projectRoot: p.dist, wx: createWx({ accounts: new WeChatAccounts() }) });
    // webpack's runtime wants self.location for import.meta.url; the web
    // glue a TextDecoder. A mini-program has neither.
    assert.throws(() => sandbox.run('app.js'), (e) => e.name === 'ReferenceError' && /^(self|TextDecoder) is not defined$/.test(e.message), bundle.name);
  }
});
