/**
 * What a request's statements do when its scope aborts (the client went away, or the deadline
 * passed), registered without an event listener per statement: the first statement of a scope
 * adds one `abort` listener to its signal, and each statement or pending connection after that
 * only adds itself to, and removes itself from, the scope's set of hooks. An `AbortSignal` is an
 * `EventTarget`, whose listeners cost far more to add and remove than a `Set` entry, and a read
 * by id used to add and remove two of them. https://nodejs.org/api/globals.html#class-abortsignal
 */

const hooksBySignal = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * The hooks run (once each) when `signal` aborts; add a hook while the work it stops is under
 * way and delete it after. A hook added once the signal has aborted is never run: check
 * `signal.aborted` first.
 */
export function abortHooksOf(signal: AbortSignal): Set<() => void> {
  let hooks = hooksBySignal.get(signal);
  if (!hooks) {
    const created = new Set<() => void>();
    signal.addEventListener('abort', () => {
      for (const hook of [...created]) hook();
      created.clear();
    }, { once: true });
    hooksBySignal.set(signal, created);
    hooks = created;
  }
  return hooks;
}
