// Virtual time for the strict sandbox: setTimeout/clearTimeout and Date.now
// that move only when the test says so, so thousands of schedules full of
// timeouts run in seconds and every deadline is exact. The sandbox shares
// Node's microtask queue, so one setImmediate turn settles every promise
// chain before the next timer fires.

export function virtualClock(start = 1_700_000_000_000) {
  let now = start;
  let seq = 0;
  const timers = new Map(); // id -> { at, id, fn }
  const clock = {
    now: () => now,
    setTimeout(fn, ms, ...args) {
      const id = ++seq;
      timers.set(id, { at: now + Math.max(0, Number(ms) || 0), id, fn: () => fn(...args) });
      return id;
    },
    clearTimeout(id) { timers.delete(id); },
    pending: () => timers.size,
    /**
     * Fires timers in order (ties in the order they were set) until none is
     * left or the next is later than `until`. A callback that throws is
     * reported to `onThrow`: in the sandbox it would have been uncaught.
     */
    async run({ until = Infinity, onThrow, maxSteps = 100000 } = {}) {
      for (let steps = 0; steps < maxSteps; steps++) {
        await new Promise((resolve) => setImmediate(resolve));
        let next = null;
        for (const t of timers.values()) if (!next || t.at < next.at || (t.at === next.at && t.id < next.id)) next = t;
        if (!next || next.at > until) return;
        timers.delete(next.id);
        now = Math.max(now, next.at);
        try { next.fn(); } catch (err) { onThrow(err); }
      }
      throw new Error('the virtual clock did not come to rest in ' + maxSteps + ' steps');
    },
  };
  return clock;
}
