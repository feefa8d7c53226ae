#!/usr/bin/env node
// Builds pkg/: the MVP-only wasm (nightly build-std, target-cpu=mvp, because
// iOS WeChat rejects post-MVP features), wasm-bindgen's bundler shims, one
// bundle per host and the package manifest. `--if-stale` skips the work when
// pkg/ is newer than every input.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, copyFileSync, cpSync, writeFileSync, readFileSync, statSync, readdirSync, rmSync } from 'node:fs';
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

// One wasm per entry, each with only what its host can use: the
// mini-program gets the session alone (no Token Store, no signatures: it
// holds no secret to sign with and nothing to cache), the web entry adds the
// Token Store (the H5 JssdkClient caches signatures in it), node everything.
const VARIANTS = {
  miniprogram: { features: [], forSize: true },
  web: { features: ['token-store'], forSize: true },
  node: { features: ['server'], forSize: false },
};

async function buildWasm(variant) {
  const { features, forSize } = VARIANTS[variant];
  const target = join(root, 'target', 'mvp');
  // immediate-abort + optimize_for_size drop std's panic formatting, and
  // fmt-debug/location-detail the Debug impls and panic locations nothing
  // prints: the core never panics on input, and every KB counts on devices.
  const env = {
    RUSTFLAGS: '-Ctarget-cpu=mvp -Zunstable-options -Cpanic=immediate-abort -Zfmt-debug=none -Zlocation-detail=none',
    CARGO_TARGET_DIR: target,
  };
  // Node has no size budget: everything is built for speed there, std
  // included (a memory Store hit went from ~150 to ~30 ns per wasm call when
  // std's collections and allocator left opt-level "z"). Its own target dir
  // keeps the two std builds from replacing each other on every build.
  if (!forSize) {
    env.CARGO_PROFILE_RELEASE_OPT_LEVEL = '3';
    env.CARGO_TARGET_DIR = target + '-speed';
  }
  const featureArgs = ['--no-default-features', ...(features.length ? ['--features', features.join(',')] : [])];
  await step(`cargo +nightly build ${variant} (wasm32, MVP, build-std)`, () => run('cargo', [
    '+nightly', 'build', '--lib', '--release', '--target', 'wasm32-unknown-unknown', ...featureArgs,
    '-Zbuild-std=std,panic_abort', ...(forSize ? ['-Zbuild-std-features=optimize_for_size'] : []), '--quiet',
  ], env));
  const raw = join(env.CARGO_TARGET_DIR, 'wasm32-unknown-unknown', 'release', 'wxsession.wasm');
  const out = join(gen, variant);
  rmSync(out, { recursive: true, force: true });
  await step(`wasm-bindgen --target bundler (${variant})`, () => run('wasm-bindgen', [
    raw, '--target', 'bundler', '--out-dir', out, '--out-name', 'wxsession', '--no-typescript',
  ]));
  const wasm = join(out, 'wxsession_bg.wasm');
  // npm binaryen, never Debian's (v108 corrupts wasm-bindgen output).
  // Clients: --converge repeats -Oz until it stops shrinking. All: the
  // memory flags state what holds for rustc's output (memory starts zeroed,
  // the stack and data sit far above address 1024) and let it drop zero data
  // and fold offsets. Node: -O3, speed over size.
  const level = forSize ? ['-Oz', '--converge'] : ['-O3'];
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
  // Sequential: they share one target dir and one std build (and the
  // machine has 2 cores).
  const mini = await buildWasm('miniprogram');
  const web = await buildWasm('web');
  const server = await buildWasm('node');

  rmSync(pkg, { recursive: true, force: true });
  mkdirSync(join(pkg, 'miniprogram_dist'), { recursive: true });
  const shared = {
    bundle: true, minify: !process.argv.includes('--no-minify'), legalComments: 'none', logLevel: 'warning',
  };
  await step('esbuild bundles', () => Promise.all([
    esbuild.build({
      ...shared, alias: { 'wxsession-bg': mini.bg }, entryPoints: [join(root, 'src/js/miniprogram/index.js')], outfile: join(pkg, 'miniprogram_dist/index.js'),
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
      ...shared, alias: { 'wxsession-bg': web.bg }, entryPoints: [join(root, 'src/js/web/index.js')], outfile: join(pkg, 'web/index.js'),
      format: 'esm', platform: 'browser', target: 'es2020',
    }),
  ]));
  copyFileSync(web.wasm, join(pkg, 'wxsession_bg.wasm'));
  copyFileSync(server.wasm, join(pkg, 'node', 'wxsession_node_bg.wasm'));
  const wasm = mini.wasm;
  // Mini-programs load brotli-compressed wasm (base library 2.14.0+), and the
  // code package's size is what devices download and WeChat limits.
  writeFileSync(join(pkg, 'miniprogram_dist', 'wxsession_bg.wasm.br'), brotliCompressSync(readFileSync(wasm), {
    params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_LGWIN]: 24, [zlib.BROTLI_PARAM_SIZE_HINT]: statSync(wasm).size },
  }));
  // Declarations per entry over a shared base (types/base.d.ts).
  cpSync(join(root, 'src/js/types'), join(pkg, 'types'), { recursive: true });
  // `wxsession/miniprogram` for resolvers that ignore "exports" (webpack 4,
  // TypeScript's moduleResolution "node"): a directory with its own manifest.
  mkdirSync(join(pkg, 'miniprogram'));
  writeFileSync(join(pkg, 'miniprogram', 'package.json'), JSON.stringify({
    main: '../miniprogram_dist/index.js', types: '../types/miniprogram.d.ts',
  }, null, 2) + '\n');
  const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({
    name: 'wxsession',
    version,
    description: 'One correct answer to "is this user logged in?" for WeChat mini-programs, H5 pages and Node backends',
    license: 'MIT',
    main: 'node/index.cjs',
    module: 'web/index.js',
    browser: 'web/index.js',
    types: 'types/node.d.ts',
    // WeChat DevTools' "build npm" copies this folder to miniprogram_npm/.
    miniprogram: 'miniprogram_dist',
    exports: {
      // Bundlers for mini-programs (Taro's webpack, uni-app's Vite) resolve
      // like a browser build: they get the web entry unless they ask for
      // `wxsession/miniprogram` or set the `miniprogram` condition.
      '.': {
        miniprogram: { types: './types/miniprogram.d.ts', default: './miniprogram_dist/index.js' },
        node: { types: './types/node.d.ts', default: './node/index.cjs' },
        browser: { types: './types/web.d.ts', default: './web/index.js' },
        default: { types: './types/web.d.ts', default: './web/index.js' },
      },
      './miniprogram': { types: './types/miniprogram.d.ts', default: './miniprogram_dist/index.js' },
      // For a bundler's copy step: require.resolve('wxsession/miniprogram/wxsession_bg.wasm.br').
      './miniprogram/wxsession_bg.wasm.br': './miniprogram_dist/wxsession_bg.wasm.br',
      './wxsession_bg.wasm': './wxsession_bg.wasm',
      './wechat-jssdk': {
        types: './types/wechat-jssdk.d.ts',
        node: './node/wechat-jssdk.cjs',
        default: './node/wechat-jssdk.cjs',
      },
      './package.json': './package.json',
    },
    files: ['node', 'web', 'miniprogram_dist', 'miniprogram', 'wxsession_bg.wasm', 'types'],
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
