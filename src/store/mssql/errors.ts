// SQL Server and driver errors turned into messages that say what was wrong and what to do.
// Connection-level failures and server states that pass (failover, full log, deadlock) become
// StoreUnavailableError so the spool keeps the data; rights and schema problems are plain errors.
import { StoreUnavailableError } from '../errors.ts';

/** Error numbers after which the same statement can succeed later without anyone changing Inlet. */
const TRANSIENT_NUMBERS = new Set([
  1205,   // chosen as deadlock victim
  1222,   // lock request time-out
  50011,  // Inlet's own: timed out waiting for the upload writer lock (another instance holds it)
  50051,  // Inlet's own: timed out waiting for the event chain lock (another instance is writing events)
  701,    // insufficient system memory to run the query
  8645,   // timed out waiting for a memory grant
  8628,   // timed out waiting for memory to run the query
  1204,   // no lock resources left for now
  1105,   // filegroup full (Express: the 10 GB data file limit) - frees up when an administrator acts
  9002,   // transaction log full
  921, 922, 942, 945, 978, 983, 976, // database recovering, offline, or an availability replica not (yet) writable
  4060,   // database cannot be opened (a statement-level 4060 during a role change; at login see below)
  3906,   // database is read-only (a failover landed on a secondary)
  3947, 3948, // transaction ended by an availability replica's state change (failover)
  35201, 35202, 35250, 35254, 41015, // availability group: replica not connected, not active, metadata in change
  40613, 40197, 40501, 49918, 49919, 49920, // Azure: resources or replica unavailable
  233, 64, 10053, 10054, 10060, // transport-level errors reported by the server
]);

/** Error numbers sent at login while an availability group changes roles, or the database is starting. */
const TRANSIENT_LOGIN_NUMBERS = new Set([4060, 976, 978, 983, 922, 942, 945, 35250, 40613, 18401]);

const TRANSIENT_CODES = new Set(['ESOCKET', 'ECONNCLOSED', 'ETIMEOUT', 'ENOTOPEN', 'ENOCONN', 'EINSTLOOKUP', 'ECONNRESET', 'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

const PERMISSION_NUMBERS = new Set([229, 230, 262, 297, 300, 15247, 916]);

const TLS_PATTERN = /certificate|self[- ]signed|SSL|TLS|ERR_TLS|UNABLE_TO_VERIFY/i;

interface DriverError { code?: string; number?: number; message?: string; originalError?: DriverError; cause?: unknown }

export interface ErrorContext {
  /** parseConnectionString(...).describe: where and as whom, no password. */
  target: string;
  /** The server's error number for the last failed login, captured from the TDS stream. */
  loginErrorNumber?: number;
  /**
   * This process has opened the database before. Then a refusal to open it (4060) is an availability
   * group changing roles or the database restarting, not a missing database or user: transient.
   */
  openedBefore?: boolean;
}

/** tarn's TimeoutError, which mssql passes on when no pooled connection frees up in time. */
function isPoolAcquireTimeout(e: DriverError): boolean {
  return e.constructor?.name === 'TimeoutError' || /Failed to acquire a connection from the pool/i.test(e.message ?? '');
}

function chainOf(err: unknown): DriverError[] {
  const chain: DriverError[] = [];
  let e = err as DriverError | undefined;
  while (e && typeof e === 'object' && chain.length < 5) { chain.push(e); e = (e.originalError ?? e.cause) as DriverError | undefined; }
  return chain;
}

/** Turns an error from connecting or from a statement into one that names the problem and the fix. */
export function explainMssqlError(err: unknown, context: ErrorContext): Error {
  if (err instanceof StoreUnavailableError) return err;
  const chain = chainOf(err);
  const message = chain.map((e) => e.message ?? '').join(' | ');
  const code = chain.map((e) => e.code).find((c) => c !== undefined);
  const number = chain.map((e) => e.number).find((n) => typeof n === 'number');

  if (chain.some(isPoolAcquireTimeout)) {
    return new StoreUnavailableError(`no connection to SQL Server freed up in time (${context.target}): every pooled connection is busy ` +
      'or the server is slow to accept new ones; uploads are spooled meanwhile', { cause: err });
  }
  if (code === 'ELOGIN') {
    const loginNumber = context.loginErrorNumber ?? (/Cannot open database/i.test(message) ? 4060 : /Login failed/i.test(message) ? 18456 : undefined);
    if (loginNumber !== undefined && TRANSIENT_LOGIN_NUMBERS.has(loginNumber) && (loginNumber !== 4060 || context.openedBefore)) {
      return new StoreUnavailableError(`SQL Server cannot open the database now (${context.target}, error ${loginNumber}): it is failing over, ` +
        `restarting or recovering; uploads are spooled meanwhile. ${chain[0]?.message ?? ''}`.trim(), { cause: err });
    }
    if (loginNumber === 4060) {
      return new Error(`SQL Server refused to open the database (${context.target}): it does not exist, is offline, or the login has no user in it. ` +
        'Create the database and a user for the login (docs/sqlserver.md), or fix Database= in store.mssql.connectionString.', { cause: err });
    }
    if (loginNumber === 18456 || loginNumber === 18452 || loginNumber === 18470 || loginNumber === 18486 || loginNumber === 18487 || loginNumber === 18488) {
      return new Error(`SQL Server login failed (${context.target}): check User Id and Password in store.mssql.connectionString, that the login ` +
        'exists, is enabled and not locked out, and, for a SQL login, that the server allows SQL Server authentication (mixed mode); ' +
        'the SQL Server error log names the exact reason (state) of error 18456.', { cause: err });
    }
    // Other login-time refusals (server starting, AG replica not ready) can pass.
    return new StoreUnavailableError(`SQL Server refused the login for now (${context.target}): ${chain[0]?.message ?? 'login failed'}`, { cause: err });
  }
  if (TLS_PATTERN.test(message) && (code === 'ESOCKET' || /certificate/i.test(message))) {
    return new Error(`the TLS connection to SQL Server failed (${context.target}): ${chain[chain.length - 1]?.message ?? message}. ` +
      'Give the server a certificate from a CA this machine trusts and connect by the name in it (or set HostNameInCertificate=); ' +
      'TrustServerCertificate=True skips the check and is for tests only.', { cause: err });
  }
  if (code === 'ETIMEOUT' && !/Failed to connect/i.test(message)) {
    return new StoreUnavailableError(`SQL Server did not answer within the command timeout (${context.target}): ${chain[0]?.message ?? code}. ` +
      'The server is overloaded or blocked; a write\'s outcome is unknown, so the upload is spooled and replayed under its upload key ' +
      '(stored once). Command Timeout= in store.mssql.connectionString sets the limit for the gateway\'s reads and writes.', { cause: err });
  }
  if ((code !== undefined && TRANSIENT_CODES.has(code)) || chain.some((e) => e.code && TRANSIENT_CODES.has(e.code))) {
    const unresolved = /ENOTFOUND|getaddrinfo/i.test(message);
    return new StoreUnavailableError(unresolved
      ? `SQL Server host not found (${context.target}): check the server name in store.mssql.connectionString and DNS`
      : code === 'EINSTLOOKUP'
        ? `the named SQL Server instance could not be looked up (${context.target}): start the SQL Server Browser service and open UDP 1434, or give the port (Server=host,port)`
        : `SQL Server is not reachable (${context.target}): ${chain[0]?.message ?? code}. Check that the service runs, TCP/IP is enabled ` +
          'in SQL Server Configuration Manager and the port is open in the firewall; uploads are spooled meanwhile.', { cause: err });
  }
  if (number !== undefined && PERMISSION_NUMBERS.has(number)) {
    return new Error(`the SQL Server login lacks a right Inlet needs (${context.target}): ${chain[0]?.message}. Grant the service login ` +
      'the inlet_service role (docs/sqlserver.md); schema changes need the owner login: run `inlet migrate` with INLET_MSSQL_CONNECTION set to it.', { cause: err });
  }
  if (number !== undefined && TRANSIENT_NUMBERS.has(number)) {
    return new StoreUnavailableError(`SQL Server cannot take the write now (error ${number}): ${chain[0]?.message}`, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}
