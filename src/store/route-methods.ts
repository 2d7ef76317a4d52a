// A Store whose named methods another party answers (a worker thread), and everything else the
// store itself: the viewer's read side and the offline sweep's reads on the SQLite write thread.
import type { Store } from './store.ts';

export function routeMethods(store: Store, methods: ReadonlySet<string>, call: (method: string, args: unknown[]) => Promise<unknown>): Store {
  return new Proxy(store, {
    get: (target, prop, receiver) => {
      if (typeof prop === 'string' && methods.has(prop)) return (...args: unknown[]) => call(prop, args);
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
