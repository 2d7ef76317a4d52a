// A store that fails as an unreachable database does (StoreUnavailableError) while `control.down`
// is set: for every call, or only for the methods named. close() and the synchronous health report
// always reach the real store.
import { StoreUnavailableError } from '../../src/store/errors.ts';

export interface Outage { down: boolean; refused: number }

export function withOutage<S extends object>(store: S, only?: readonly string[]): { store: S; control: Outage } {
  const control: Outage = { down: true, refused: 0 };
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const affected = only ? only.includes(String(prop)) : prop !== 'close' && prop !== 'health';
      if (!affected) return value.bind(target);
      return (...args: unknown[]) => {
        if (!control.down) return (value as (...a: unknown[]) => unknown).apply(target, args);
        control.refused++;
        return Promise.reject(new StoreUnavailableError('SQL Server is not reachable (test outage)'));
      };
    },
  });
  return { store: proxy, control };
}
