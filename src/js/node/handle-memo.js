// url -> { slot, generation, value } of what the core just served from
// memory (in the same turn, so handle and value belong together): the next
// call for that URL asks the core about it with two numbers instead of
// copying the URL across. The core still decides every use (expiry, the
// ticket, the LRU; any change to the entry retires its handle); this only
// remembers what it answered. Bounded: cleared when full.
export class HandleMemo {
  constructor(max) {
    this._map = new Map();
    this._max = max;
  }

  /** The remembered `{ slot, generation, value }` for `url`, or undefined. */
  get(url) {
    return this._map.get(url);
  }

  forget(url) {
    this._map.delete(url);
  }

  /** `handle`: the core's `[slot, generation]` for `url`, or undefined (nothing to remember). */
  remember(url, handle, value) {
    if (handle === undefined) return;
    if (this._map.size >= this._max) this._map.clear();
    this._map.set(url, { slot: handle[0], generation: handle[1], value });
  }
}
