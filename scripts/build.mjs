#!/usr/bin/env node
// Builds pkg/: the MVP-only wasm (nightly build-std, target-cpu=mvp, because
// iOS WeChat rejects post-MVP features), wasm-bindgen's bundler shims, one
// bundle per host and the package manifest. `--if-stale` skips the work when
// pkg/ is newer than every input.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, copyFileSync, writeFileSync, readFileSync, statSync, readdirSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlib } from 'node:zlib';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(root, 'pkg');
const gen = join(root, 'build', 'bindgen');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const ALLOWED_FEATURES = new Set(['mutable-globals', 'sign-ext']);

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

function stale() {
  const stamp = join(pkg, 'package.json');
  if (!existsSync(stamp)) return true;
  const inputs = Math.max(newest(join(root, 'src')), statSync(join(root, 'Cargo.toml')).mtimeMs,
    statSync(join(root, 'scripts', 'build.mjs')).mtimeMs);
  return inputs > statSync(stamp).mtimeMs;
}

async function step(what, fn) {
  const t0 = Date.now();
  console.log(`build: ${what} ...`);
  const r = await fn();
  console.log(`build: ${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return r;
}

function run(cmd, args, env) {
  execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
}

export function wasmFeatures(file) {
  const out = execFileSync(bin('wasm-opt'), [file, '--print-features', '-o', '/dev/null'], { encoding: 'utf8' });
  return out.split('\n').map((l) => l.trim().replace(/^--enable-/, '')).filter(Boolean);
}

// One wasm per audience: `client` (mini-program, web) without the server
// feature, `server` (Node) with the WeChat credential exports.
async function buildWasm(variant) {
  const server = variant === 'server';
  const target = join(root, 'target', 'mvp');
  const features = server ? [] : ['--no-default-features'];
  // immediate-abort + optimize_for_size drop std's panic formatting, and
  // fmt-debug/location-detail the Debug impls and panic locations nothing
  // prints: the core never panics on input, and the size budget is 48 KB gzip.
  const env = {
    RUSTFLAGS: '-Ctarget-cpu=mvp -Zunstable-options -Cpanic=immediate-abort -Zfmt-debug=none -Zlocation-detail=none',
    CARGO_TARGET_DIR: target,
  };
  // Node has no size budget: our crate is built for speed there (a store
  // hit, a signature), while std stays the one both builds share.
  if (server) env.CARGO_PROFILE_RELEASE_PACKAGE_WXSESSION_OPT_LEVEL = '3';
  await step(`cargo +nightly build ${variant} (wasm32, MVP, build-std)`, () => run('cargo', [
    '+nightly', 'build', '--lib', '--release', '--target', 'wasm32-unknown-unknown', ...features,
    '-Zbuild-std=std,panic_abort', '-Zbuild-std-features=optimize_for_size', '--quiet',
  ], env));
  const raw = join(target, 'wasm32-unknown-unknown', 'release', 'wxsession.wasm');
  const out = join(gen, variant);
  rmSync(out, { recursive: true, force: true });
  await step(`wasm-bindgen --target bundler (${variant})`, () => run('wasm-bindgen', [
    raw, '--target', 'bundler', '--out-dir', out, '--out-name', 'wxsession', '--no-typescript',
  ]));
  const wasm = join(out, 'wxsession_bg.wasm');
  // npm binaryen, never Debian's (v108 corrupts wasm-bindgen output).
  // Clients: --converge repeats -Oz until it stops shrinking. Both: the
  // memory flags state what holds for rustc's output (memory starts zeroed,
  // the stack and data sit far above address 1024) and let it drop zero data
  // and fold offsets. Node: -O3, speed over size.
  const level = server ? ['-O3'] : ['-Oz', '--converge'];
  await step(`wasm-opt ${level.join(' ')} (npm binaryen, ${variant})`, () => run(bin('wasm-opt'), [
    wasm, ...level, '--zero-filled-memory', '--low-memory-unused',
    '--mvp-features', '--enable-mutable-globals', '--enable-sign-ext', '-o', wasm,
  ]));
  const used = wasmFeatures(wasm);
  const extra = used.filter((f) => !ALLOWED_FEATURES.has(f));
  if (extra.length) throw new Error(`the ${variant} wasm uses post-MVP features ${extra.join(', ')}: iOS WeChat would reject it`);
  console.log(`build: ${variant} wasm features: ${used.join(', ') || '(mvp only)'}`);
  return { wasm, bg: join(out, 'wxsession_bg.js') };
}

async function build() {
  // Sequential: both share one target dir (and the machine has 2 cores).
  const client = await buildWasm('client');
  const server = await buildWasm('server');

  rmSync(pkg, { recursive: true, force: true });
  mkdirSync(join(pkg, 'miniprogram_dist'), { recursive: true });
  const shared = {
    bundle: true, minify: !process.argv.includes('--no-minify'), legalComments: 'none', logLevel: 'warning',
  };
  const clientAlias = { alias: { 'wxsession-bg': client.bg } };
  await step('esbuild bundles', () => Promise.all([
    esbuild.build({
      ...shared, ...clientAlias, entryPoints: [join(root, 'src/js/miniprogram/index.js')], outfile: join(pkg, 'miniprogram_dist/index.js'),
      format: 'cjs', platform: 'neutral', target: 'es2017', inject: [join(root, 'src/js/shared/utf8.js')],
    }),
    esbuild.build({
      ...shared, alias: { 'wxsession-bg': server.bg }, entryPoints: [join(root, 'src/js/node/index.js')], outfile: join(pkg, 'node/index.cjs'),
      format: 'cjs', platform: 'node', target: 'node20',
      // Loaded on first use by RedisStore/MongoStore; never bundled.
      external: ['redis', 'mongodb'],
      // Class names are API: wechat-jssdk users check Store.name and instanceof.
      keepNames: true,
    }),
    esbuild.build({
      ...shared, entryPoints: [join(root, 'src/js/wechat-jssdk/index.js')], outfile: join(pkg, 'node/wechat-jssdk.cjs'),
      format: 'cjs', platform: 'node', target: 'node20', keepNames: true,
      // The node entry (one wasm instance, the same classes) and wechat-jssdk itself stay outside.
      external: ['./index.cjs', 'wechat-jssdk', 'wechat-jssdk/*'],
    }),
    esbuild.build({
      ...shared, ...clientAlias, entryPoints: [join(root, 'src/js/web/index.js')], outfile: join(pkg, 'web/index.js'),
      format: 'esm', platform: 'browser', target: 'es2020',
    }),
  ]));
  copyFileSync(client.wasm, join(pkg, 'wxsession_bg.wasm'));
  copyFileSync(server.wasm, join(pkg, 'node', 'wxsession_node_bg.wasm'));
  const wasm = client.wasm;
  // Mini-programs load brotli-compressed wasm (base library 2.14.0+), and the
  // code package's size is what devices download and WeChat limits.
  writeFileSync(join(pkg, 'miniprogram_dist', 'wxsession_bg.wasm.br'), brotliCompressSync(readFileSync(wasm), {
    params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_LGWIN]: 24, [zlib.BROTLI_PARAM_SIZE_HINT]: statSync(wasm).size },
  }));
  copyFileSync(join(root, 'src/js/index.d.ts'), join(pkg, 'index.d.ts'));
  copyFileSync(join(root, 'src/js/wechat-jssdk.d.ts'), join(pkg, 'wechat-jssdk.d.ts'));
  copyFileSync(join(root, 'src/js/sessions.d.ts'), join(pkg, 'sessions.d.ts'));
  const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({
    name: 'wxsession',
    version,
    description: 'One correct answer to "is this user logged in?" for WeChat mini-programs, H5 pages and Node backends',
    license: 'MIT',
    main: 'node/index.cjs',
    module: 'web/index.js',
    browser: 'web/index.js',
    types: 'index.d.ts',
    miniprogram: 'miniprogram_dist',
    exports: {
      '.': {
        types: './index.d.ts',
        node: './node/index.cjs',
        browser: './web/index.js',
        default: './web/index.js',
      },
      './wechat-jssdk': {
        types: './wechat-jssdk.d.ts',
        node: './node/wechat-jssdk.cjs',
        default: './node/wechat-jssdk.cjs',
      },
      './package.json': './package.json',
    },
    files: ['node', 'web', 'miniprogram_dist', 'wxsession_bg.wasm', 'index.d.ts', 'sessions.d.ts', 'wechat-jssdk.d.ts'],
    // Node 18 is end-of-life, and without a flag it has no globalThis.crypto.
    engines: { node: '>=20' },
    // Only RedisStore and MongoStore need these, and only when used.
    peerDependencies: { redis: '>=4', mongodb: '>=6', 'wechat-jssdk': '>=5' },
    peerDependenciesMeta: { redis: { optional: true }, mongodb: { optional: true }, 'wechat-jssdk': { optional: true } },
    sideEffects: false,
  }, null, 2) + '\n');
  console.log(`build: wrote ${pkg}`);
}

if (process.argv.includes('--if-stale') && !stale()) {
  console.log('build: pkg/ is up to date');
} else {
  await build();
}
