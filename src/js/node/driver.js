// Runs the server core's actions: performs each I/O request through the
// store's backend host or the WeChat HTTP host, answers the core, and
// settles the caller's promise when its operation finishes. Nothing here
// decides anything; the kinds come from the wasm module (IoKind).
import { IoKind } from 'wxsession-bg';
import { codedError } from '../shared/errors.js';

const CAUSES_KEPT = 256;

export class Driver {
  constructor(core, backend) {
    this._core = core;
    this._backend = backend;
    this._http = null;
    this._ops = new Map();
    // Host errors behind a failure, by id, so the error a caller finally
    // sees carries the original as its cause. Bounded: oldest go first.
    this._causes = new Map();
    this._nextCause = 1;
  }

  /** The WeChat HTTP host: (method, path, query, body) -> reply text. */
  useHttp(http) {
    this._http = http;
  }

  /** `started`: what a core start method answered ({op, actions}). */
  run(started) {
    return new Promise((resolve, reject) => {
      this._ops.set(started.op, { resolve, reject });
      this._apply(started.actions);
    });
  }

  _apply(actions) {
    for (let i = 0; i < actions.length; i++) {
      const a = actions[i];
      if (a.op !== undefined) this._finish(a);
      else this._perform(a);
    }
  }

  _finish(a) {
    const waiting = this._ops.get(a.op);
    if (!waiting) return;
    this._ops.delete(a.op);
    if (!a.error) return waiting.resolve(a.value);
    const e = a.error;
    const cause = e.cause !== undefined ? this._causes.get(e.cause) : undefined;
    waiting.reject(codedError(e.code, e.message, { errcode: e.errcode, errmsg: e.errmsg, cause, status: cause && cause.status }));
  }

  _perform(a) {
    const b = this._backend;
    let p;
    switch (a.kind) {
      case IoKind.Get: p = b.get(a.key); break;
      case IoKind.Set: p = b.set(a.key, a.value, a.ttlMs); break;
      case IoKind.Delete: p = b.delete(a.key); break;
      case IoKind.Lock: p = b.lock(a.name, a.ttlMs); break;
      case IoKind.Unlock: p = b.unlock(a.name, a.token); break;
      case IoKind.Clear: p = b.clear(); break;
      case IoKind.Call:
        p = this._http ? this._http(a.method, a.path, a.query, a.body) : Promise.reject(codedError('BAD_CONFIG', 'no Wechat is attached to this store'));
        break;
      case IoKind.Sleep:
        p = new Promise((resolve) => {
          const timer = setTimeout(resolve, a.ms, null);
          if (timer && typeof timer.unref === 'function') timer.unref();
        });
        break;
      default:
        p = Promise.reject(new Error('wxsession: unknown I/O kind ' + a.kind));
    }
    p.then(
      (value) => this._apply(this._core.complete(a.io, typeof value === 'string' ? value : undefined, Date.now())),
      (err) => {
        const id = this._nextCause++;
        this._causes.set(id, err);
        if (this._causes.size > CAUSES_KEPT) this._causes.delete(this._causes.keys().next().value);
        const code = err && typeof err.code === 'string' ? err.code : 'NETWORK';
        this._apply(this._core.fail(a.io, code, String((err && err.message) || err), id, Date.now()));
      },
    );
  }
}
