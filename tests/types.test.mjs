// Each entry's declarations, as a consumer's TypeScript sees them through the
// built package's "exports" (and, for resolvers that ignore them, its
// `miniprogram/` folder): tests/types/*.ts must compile with tsc --noEmit,
// and every line after a `// @ts-expect-error` must not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, symlinkSync, copyFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, PKG } from './support/harness.mjs';

const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const STRICT = { strict: true, noEmit: true, skipLibCheck: false, types: [], noUnusedLocals: false };

// `file` in a project of its own, with the package installed as `wxsession`.
function typecheck(file, compilerOptions) {
  const dir = mkdtempSync(join(tmpdir(), 'wxsession-types-'));
  try {
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(PKG, join(dir, 'node_modules', 'wxsession'), 'dir');
    copyFileSync(join(ROOT, 'tests', 'types', file), join(dir, file));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...STRICT, ...compilerOptions }, files: [file] }));
    try {
      execFileSync(process.execPath, [TSC, '-p', dir], { encoding: 'utf8', stdio: 'pipe' });
      return '';
    } catch (err) {
      return String(err.stdout || err.message);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const MINI = { target: 'es2017', lib: ['es2017'], module: 'esnext' };

test('mini-program: `wxsession/miniprogram` with bundler resolution, ES2017 and no DOM', () => {
  assert.equal(typecheck('miniprogram.ts', { ...MINI, moduleResolution: 'bundler' }), '');
});

test('mini-program: `wxsession/miniprogram` through the folder, for moduleResolution "node" (Taro\'s default)', () => {
  assert.equal(typecheck('miniprogram.ts', { ...MINI, module: 'commonjs', moduleResolution: 'node10' }), '');
});

test('mini-program: the bare `wxsession` under the `miniprogram` condition', () => {
  assert.equal(typecheck('miniprogram-condition.ts', { ...MINI, moduleResolution: 'bundler', customConditions: ['miniprogram'] }), '');
});

test('web: `wxsession` in a browser build', () => {
  assert.equal(typecheck('web.ts', { target: 'es2020', lib: ['es2020', 'dom'], module: 'esnext', moduleResolution: 'bundler' }), '');
});

test('node: `wxsession` and `wxsession/wechat-jssdk` under nodenext', () => {
  assert.equal(typecheck('node.ts', { target: 'es2022', lib: ['es2022', 'dom'], module: 'nodenext', moduleResolution: 'nodenext' }), '');
});

test('the checks bite: a mini-program consumer type-checked as a web one fails', () => {
  const out = typecheck('miniprogram-condition.ts', { ...MINI, moduleResolution: 'bundler' });
  assert.match(out, /Property 'uploadFile' does not exist/);
});
