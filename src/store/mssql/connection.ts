// Turns the one configured connection string into an mssql (tedious) config. Two forms:
//   ADO:  Server=tcp:sql01,1433;Database=inlet;User Id=inlet_svc;Password=...;Encrypt=True;TrustServerCertificate=False
//   URL:  mssql://inlet_svc:...@sql01:1433/inlet?encrypt=true&trustServerCertificate=false
// Windows logins are given as User Id=DOMAIN\user (or Domain=DOMAIN) with their password: tedious
// speaks NTLM itself and cannot borrow the service account's ticket, so Integrated Security is refused
// with a message saying what to write instead. Nothing here logs; describe() is safe to log.
import type { config as MssqlConfig } from 'mssql';

export class ConnectionStringError extends Error {}

export interface ParsedConnection {
  config: MssqlConfig;
  /** Where and as whom Inlet connects, without the password: safe for logs and error messages. */
  describe: string;
}

const DEFAULT_TIMEOUT_S = 15;

/** Keys of the ADO form, lower-cased with spaces removed, mapped to one meaning each. */
const ADO_KEYS: Record<string, keyof Settings> = {
  server: 'server', datasource: 'server', address: 'server', addr: 'server', networkaddress: 'server',
  database: 'database', initialcatalog: 'database',
  userid: 'user', uid: 'user', user: 'user', username: 'user',
  password: 'password', pwd: 'password',
  domain: 'domain',
  encrypt: 'encrypt',
  trustservercertificate: 'trustServerCertificate',
  hostnameincertificate: 'hostNameInCertificate', servercertificatename: 'hostNameInCertificate',
  multisubnetfailover: 'multiSubnetFailover',
  applicationintent: 'applicationIntent',
  applicationname: 'appName', app: 'appName',
  connecttimeout: 'connectTimeoutS', connectiontimeout: 'connectTimeoutS', timeout: 'connectTimeoutS',
  commandtimeout: 'requestTimeoutS', requesttimeout: 'requestTimeoutS',
  maxpoolsize: 'maxPool', minpoolsize: 'minPool',
  integratedsecurity: 'integratedSecurity', trustedconnection: 'integratedSecurity',
  instancename: 'instanceName', port: 'port',
};

interface Settings {
  server: string; database: string; user: string; password: string; domain: string;
  encrypt: string; trustServerCertificate: string; hostNameInCertificate: string; multiSubnetFailover: string;
  applicationIntent: string; appName: string; connectTimeoutS: string; requestTimeoutS: string;
  maxPool: string; minPool: string; integratedSecurity: string; instanceName: string; port: string;
}

export function parseConnectionString(text: string): ParsedConnection {
  const trimmed = text.trim();
  if (!trimmed) throw new ConnectionStringError('store.mssql.connectionString is empty: set it (see docs/sqlserver.md)');
  const settings = /^(mssql|sqlserver):\/\//i.test(trimmed) ? fromUrl(trimmed) : fromAdo(trimmed);
  return toConfig(settings);
}

/** Splits `key=value;...`, honouring values quoted with '...', "..." or {...} (a doubled closer escapes it). */
function fromAdo(text: string): Partial<Settings> {
  const settings: Partial<Settings> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    if (eq < 0) {
      // The stray text is not echoed: it may be the tail of a password that held a ";".
      if (text.slice(i).trim()) throw new ConnectionStringError('connection string has a part without "=": write Key=Value pairs separated by ";", and quote a value that contains ";" as \'...\' or {...}');
      break;
    }
    const rawKey = text.slice(i, eq).trim();
    let j = eq + 1;
    while (text[j] === ' ') j++;
    let value = '';
    const opener = text[j];
    const closer = opener === '{' ? '}' : opener === "'" || opener === '"' ? opener : null;
    if (closer) {
      j++;
      for (;;) {
        if (j >= text.length) throw new ConnectionStringError(`connection string value of ${rawKey} is missing its closing ${closer}`);
        if (text[j] === closer) {
          if (text[j + 1] === closer) { value += closer; j += 2; continue; }
          j++;
          break;
        }
        value += text[j++];
      }
      const semi = text.indexOf(';', j);
      if (text.slice(j, semi < 0 ? undefined : semi).trim()) throw new ConnectionStringError(`connection string value of ${rawKey} has text after its closing ${closer}`);
      i = semi < 0 ? text.length : semi + 1;
    } else {
      const semi = text.indexOf(';', j);
      value = text.slice(j, semi < 0 ? undefined : semi).trim();
      i = semi < 0 ? text.length : semi + 1;
    }
    const key = ADO_KEYS[rawKey.toLowerCase().replace(/\s+/g, '')];
    if (!key) throw new ConnectionStringError(`connection string key "${rawKey}" is not supported; supported keys: Server, Database, User Id, Password, Domain, Encrypt, TrustServerCertificate, HostNameInCertificate, MultiSubnetFailover, ApplicationIntent, Application Name, Connect Timeout, Command Timeout, Max Pool Size, Min Pool Size`);
    settings[key] = value;
  }
  return settings;
}

function fromUrl(text: string): Partial<Settings> {
  let url: URL;
  try {
    url = new URL(text.replace(/^sqlserver:/i, 'mssql:'));
  } catch {
    throw new ConnectionStringError('connection string URL is malformed: write mssql://user:password@host[:port]/database[?encrypt=true&...] (percent-encode special characters in the password)');
  }
  const settings: Partial<Settings> = {
    server: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    database: decodeURIComponent(url.pathname.replace(/^\//, '')),
  };
  if (url.port) settings.port = url.port;
  if (url.username) settings.user = decodeURIComponent(url.username);
  if (url.password) settings.password = decodeURIComponent(url.password);
  for (const [name, value] of url.searchParams) {
    const key = ADO_KEYS[name.toLowerCase()];
    if (!key || key === 'server' || key === 'password') throw new ConnectionStringError(`connection string URL option "${name}" is not supported`);
    settings[key] = value;
  }
  return settings;
}

function flag(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  const v = value.toLowerCase();
  if (['true', 'yes', '1'].includes(v)) return true;
  if (['false', 'no', '0'].includes(v)) return false;
  throw new ConnectionStringError(`connection string ${name}=${value} is not understood: use True or False`);
}

function wholeNumber(name: string, value: string | undefined, fallback: number, minimum = 1): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < minimum) throw new ConnectionStringError(`connection string ${name}=${value} must be a whole number of at least ${minimum}`);
  return n;
}

/** Encrypt=Strict is TDS 8 (TLS before login); Mandatory/Optional are the newer spellings of True/False. */
function encryption(value: string | undefined): boolean | 'strict' {
  const v = (value ?? '').toLowerCase();
  if (v === 'strict') return 'strict';
  if (v === 'mandatory') return true;
  if (v === 'optional') return false;
  return flag('Encrypt', value, true);
}

function toConfig(s: Partial<Settings>): ParsedConnection {
  if (s.integratedSecurity !== undefined && flag('Integrated Security', s.integratedSecurity.toLowerCase() === 'sspi' ? 'true' : s.integratedSecurity, false)) {
    throw new ConnectionStringError('Integrated Security is not available to Inlet (its SQL Server driver cannot use the service account\'s ' +
      'Windows ticket): give the Windows login explicitly as User Id=DOMAIN\\user;Password=... (NTLM), or use a SQL Server login');
  }
  // Server forms: host, host\instance, host,port, tcp:host,port, (local), "." and "(localdb)" aside.
  let server = (s.server ?? '').trim().replace(/^tcp:/i, '');
  if (!server) throw new ConnectionStringError('connection string has no Server: add Server=<host>[\\instance][,port]');
  if (/^np:|^lpc:|^\(localdb\)/i.test(server)) {
    throw new ConnectionStringError(`Server=${server} uses named pipes, shared memory or LocalDB, which Inlet's driver cannot use: enable TCP/IP on the instance and give Server=<host>[,port]`);
  }
  let port: number | undefined = s.port ? wholeNumber('Port', s.port, 1433) : undefined;
  const comma = server.lastIndexOf(',');
  if (comma >= 0) { port = wholeNumber('Server port', server.slice(comma + 1).trim(), 1433); server = server.slice(0, comma).trim(); }
  let instanceName = s.instanceName || undefined;
  const slash = server.indexOf('\\');
  if (slash >= 0) { instanceName = server.slice(slash + 1); server = server.slice(0, slash); }
  if (server === '.' || server.toLowerCase() === '(local)') server = 'localhost';
  if (instanceName && port !== undefined) instanceName = undefined; // an explicit port wins, as in SqlClient

  const database = s.database?.trim();
  if (!database) throw new ConnectionStringError('connection string has no Database: add Database=<name> (the database Inlet owns, e.g. inlet)');

  let user = s.user ?? '';
  let domain = s.domain || undefined;
  const backslash = user.indexOf('\\');
  if (backslash >= 0) { domain = user.slice(0, backslash); user = user.slice(backslash + 1); }
  if (!user) throw new ConnectionStringError('connection string has no User Id: give a SQL Server login, or a Windows login as DOMAIN\\user');
  const password = s.password ?? '';

  const encrypt = encryption(s.encrypt);
  const trustServerCertificate = flag('TrustServerCertificate', s.trustServerCertificate, false);
  const options = {
    encrypt: encrypt as boolean, // tedious accepts 'strict' here; the mssql types only know booleans
    trustServerCertificate,
    ...(s.hostNameInCertificate ? { serverName: s.hostNameInCertificate } : {}),
    ...(instanceName ? { instanceName } : {}),
    multiSubnetFailover: flag('MultiSubnetFailover', s.multiSubnetFailover, false),
    readOnlyIntent: (s.applicationIntent ?? '').toLowerCase() === 'readonly',
    appName: s.appName || 'Inlet',
    // Times are UTC on both sides: datetime2 columns hold UTC and JavaScript Dates are read as UTC.
    useUTC: true,
    // A failed statement inside a group's transaction must roll the whole transaction back.
    abortTransactionOnError: true,
  };
  const config: MssqlConfig = {
    server, database, port,
    connectionTimeout: wholeNumber('Connect Timeout', s.connectTimeoutS, DEFAULT_TIMEOUT_S) * 1000,
    requestTimeout: wholeNumber('Command Timeout', s.requestTimeoutS, 30) * 1000,
    pool: { max: wholeNumber('Max Pool Size', s.maxPool, 10), min: wholeNumber('Min Pool Size', s.minPool, 0, 0) },
    options,
    ...(domain
      ? { authentication: { type: 'ntlm' as const, options: { userName: user, password, domain } } }
      : { user, password }),
  };
  const where = `${server}${instanceName ? `\\${instanceName}` : ''}${port !== undefined ? `,${port}` : ''}`;
  const tls = encrypt === 'strict' ? 'TLS strict (TDS 8)' : encrypt ? `TLS${trustServerCertificate ? ', server certificate NOT verified' : ''}` : 'no TLS';
  const describe = `server ${where}, database ${database}, ${domain ? `Windows login ${domain}\\${user} (NTLM)` : `SQL login ${user}`}, ${tls}` +
    `${options.multiSubnetFailover ? ', MultiSubnetFailover' : ''}`;
  return { config, describe };
}
