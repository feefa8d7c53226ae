// Runs one refresh flight of the Rust CredentialCore: the core decides each
// step (lock, re-read, fetch, write, unlock...), this performs it and
// reports back. Step numbers match src/wasm/credentials.rs.
const LOCK = 1, READ = 2, SLEEP = 3, NEED_TOKEN = 4, FETCH = 5, WRITE = 6, UNLOCK = 7, DONE = 8, FAILED = 9;

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const codeOf = (err, fallback) => (err && typeof err.code === 'string' ? err.code : fallback);

/**
 * io: { lock(name, ttlMs), unlock(name, token), read() -> info|undefined,
 * token(stale) -> string, fetch(arg) -> body text, write(patch) }.
 * Resolves { value, refreshAt }. The core is shared by concurrent flights,
 * so its `text`/`number` are read before anything is awaited.
 */
export async function runFlight(core, flight, step, io) {
  let lock = null;
  let hostError = null;
  const failed = (kind, err, fallback = 'NETWORK') => {
    hostError = err;
    return core.failed(flight, kind, codeOf(err, fallback), String((err && err.message) || err), Date.now());
  };
  for (;;) {
    const text = core.text, number = core.number;
    switch (step) {
      case LOCK:
        try {
          const token = await io.lock(text, number);
          if (token !== null && token !== undefined) lock = { name: text, token };
          step = core.locked(flight, lock !== null, Date.now());
        } catch (err) {
          step = failed(LOCK, err, 'STORE_UNAVAILABLE');
        }
        break;
      case READ:
        try {
          const info = await io.read();
          step = core.read(flight, info === undefined || info === null ? undefined : JSON.stringify(info), Date.now());
        } catch (err) {
          step = failed(READ, err, 'STORE_UNAVAILABLE');
        }
        break;
      case SLEEP:
        await pause(number);
        step = core.slept(flight, Date.now());
        break;
      case NEED_TOKEN:
        try {
          step = core.token(flight, await io.token(text), Date.now());
        } catch (err) {
          step = failed(NEED_TOKEN, err);
        }
        break;
      case FETCH:
        try {
          step = core.fetched(flight, await io.fetch(text), Date.now());
        } catch (err) {
          step = failed(FETCH, err);
        }
        break;
      case WRITE:
        // A failed write still serves the fresh value (the core's rule).
        try { await io.write(JSON.parse(text)); } catch (_) { /* kept in memory; the store retries */ }
        step = core.written(flight, Date.now());
        break;
      case UNLOCK:
        // If this fails the lock still expires by its TTL.
        try { await io.unlock(lock.name, lock.token); } catch (_) { /* expires */ }
        lock = null;
        step = core.unlocked(flight, Date.now());
        break;
      case DONE:
        return { value: text, refreshAt: number };
      case FAILED: {
        const err = core.takeError();
        // Hand back the host's own error (with its cause) when it is the one.
        throw hostError && hostError.code === err.code && hostError.message === err.message ? hostError : err;
      }
      default:
        throw new Error('unknown credential step ' + step);
    }
  }
}
