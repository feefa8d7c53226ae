// The same two routes (POST /auth/login, GET /api/me) under Express, Koa and
// bare node:http, each on a real port, built only from wechat.sessions'
// handlers; and a raw HTTP/1.1 client for what fetch refuses to send.
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import express from 'express';
import Koa from 'koa';

const me = (s) => ({ openid: s.openid, data: s.data === undefined ? null : s.data });

export const FRAMEWORKS = {
  express(sessions) {
    const app = express();
    app.all('/auth/login', sessions.loginHandler());
    app.use('/api', sessions.middleware());
    app.get('/api/me', (req, res) => res.json(me(req.wxsession)));
    return http.createServer(app);
  },
  koa(sessions) {
    const app = new Koa();
    const login = sessions.koaLogin();
    const guard = sessions.koa();
    app.use((ctx, next) => {
      if (ctx.path === '/auth/login') return login(ctx);
      if (ctx.path.startsWith('/api/')) return guard(ctx, async () => { ctx.body = me(ctx.state.wxsession); });
      return next();
    });
    return http.createServer(app.callback());
  },
  'node:http'(sessions) {
    const login = sessions.loginHandler();
    const guard = sessions.middleware();
    return http.createServer((req, res) => {
      if (req.url === '/auth/login') return login(req, res);
      if (req.url.startsWith('/api/')) {
        return guard(req, res, () => {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify(me(req.wxsession)));
        });
      }
      res.statusCode = 404;
      res.end();
    });
  },
};

/** Listens on 127.0.0.1; remembers how many bytes each connection read by the time it closed. */
export async function listen(server) {
  const read = [];
  const open = new Set();
  server.on('connection', (socket) => {
    open.add(socket);
    socket.on('close', () => { open.delete(socket); read.push(socket.bytesRead); });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  return {
    port,
    base: `http://127.0.0.1:${port}`,
    /** The most any connection read so far, open ones included. */
    maxRead: () => Math.max(0, ...read, ...[...open].map((s) => s.bytesRead)),
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

function parse(text) {
  const [head, ...rest] = text.split('\r\n\r\n');
  const [statusLine, ...lines] = head.split('\r\n');
  const headers = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') };
}

/** Sends `bytes` as they are and reads until the server closes (or 5 s). */
export async function rawRequest(port, bytes) {
  const sock = net.connect(port, '127.0.0.1');
  let text = '';
  sock.on('data', (d) => { text += d.toString('latin1'); });
  sock.on('error', () => {});
  await once(sock, 'connect');
  sock.end(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'latin1'));
  await Promise.race([once(sock, 'close'), new Promise((r) => setTimeout(r, 5000))]);
  sock.destroy();
  return parse(text);
}

/**
 * POSTs a `size`-byte body to /auth/login as fast as the server takes it,
 * announced by Content-Length or sent chunked, and stops once an answer
 * arrives or the server closes: { status, body, sent }.
 */
export async function bigUpload(port, size, { chunked = false } = {}) {
  const sock = net.connect(port, '127.0.0.1');
  let text = '', closed = false;
  sock.on('data', (d) => { text += d.toString('latin1'); });
  sock.on('close', () => { closed = true; });
  sock.on('error', () => { closed = true; });
  await once(sock, 'connect');
  sock.write(`POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${chunked ? 'Transfer-Encoding: chunked' : 'Content-Length: ' + size}\r\n\r\n`);
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const frame = chunked ? Buffer.concat([Buffer.from(chunk.length.toString(16) + '\r\n'), chunk, Buffer.from('\r\n')]) : chunk;
  let sent = 0;
  while (sent < size && !closed && !text.includes('\r\n\r\n')) {
    const more = sock.write(frame);
    sent += chunk.length;
    if (!more) await Promise.race([once(sock, 'drain').catch(() => {}), new Promise((r) => setTimeout(r, 50))]);
  }
  const deadline = Date.now() + 5000;
  while (!closed && !/\r\n\r\n[\s\S]*\}/.test(text) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  sock.destroy();
  return { ...parse(text), sent };
}
