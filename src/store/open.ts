// Opens the configured store, loading only its own adapter: the SQL Server driver alone takes
// about half a second to load, which a one-shot command such as `inlet device add` on SQLite
// should not pay (registering 100 devices from a script must take seconds, not minutes).
import type { InletConfig } from '../config/schema.ts';
import { dataPath } from '../config/load.ts';
import type { Store } from './store.ts';

export interface OpenStoreOptions {
  /**
   * A one-shot command writes in its own thread: starting the SQLite write worker (a second
   * thread loading the write path) costs more than the few rows a command writes.
   */
  forCommand?: boolean;
}

export async function openConfiguredStore(config: InletConfig, options: OpenStoreOptions = {}): Promise<Store> {
  if (config.store.kind === 'mssql') {
    const { MssqlStore } = await import('./mssql/mssql-store.ts');
    return new MssqlStore({ connectionString: config.store.mssql.connectionString });
  }
  const { SqliteStore } = await import('./sqlite/sqlite-store.ts');
  return new SqliteStore({ file: dataPath(config, config.store.sqlite.file), writeInWorker: options.forCommand ? false : undefined });
}
