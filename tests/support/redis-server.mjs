// A throwaway redis-server (Debian's binary) on 127.0.0.1 and a free port,
// so a test can kill and restart it at will: with no persistence, or with
// `durable: true` an append-only file fsynced before each reply (what a
// deployment that must not lose an acknowledged write runs), kept across
// restarts until close().
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const running = new Set();
// Last line of defence: a failing test must not leave a server behind.
process.on('exit', () => { for (const child of running) child.kill('SIGKILL'); });

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}

function ping(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    let reply = '';
    const done = (ok) => { sock.destroy(); resolve(ok); };
    sock.setTimeout(500, () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => { reply += d; if (reply.includes('\r\n')) done(reply.startsWith('+PONG')); });
    sock.on('error', () => done(false));
  });
}

export async function startRedis({ durable = false } = {}) {
  if (spawnSync('sh', ['-c', 'command -v redis-server']).status !== 0) {
    throw new Error('redis-server is not installed: run scripts/setup.sh (apt-get install -y redis-server)');
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'wxsession-redis-'));
  let child = null;

  async function start() {
    let log = '';
    const persistence = durable ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence,
      '--daemonize', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const mine = child;
    running.add(mine);
    mine.stdout.on('data', (d) => { log += d; });
    mine.stderr.on('data', (d) => { log += d; });
    const exited = new Promise((resolve) => mine.once('exit', resolve));
    exited.then(() => running.delete(mine));
    mine.exited = exited;
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline) {
      if (mine.exitCode !== null) throw new Error('redis-server exited (' + mine.exitCode + '):\n' + log);
      if (await ping(port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('redis-server did not answer PING within 10 s:\n' + log);
  }

  async function stop(signal = 'SIGKILL') {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill(signal);
    await c.exited;
  }

  await start();
  return {
    url: 'redis://127.0.0.1:' + port,
    port,
    stop,
    async restart() { await stop(); await start(); },
    async close() { await stop(); rmSync(dir, { recursive: true, force: true }); },
  };
}
