// A real OpenLDAP server (Debian's slapd) on loopback for the directory sign-in tests, dressed as a
// small Active Directory: accounts of objectClass user with sAMAccountName, userPrincipalName and
// userAccountControl, groups of objectClass group with member, LDAPS with a CA made for the test.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const SLAPD = '/usr/sbin/slapd';
export const SLAPADD = '/usr/sbin/slapadd';
export const BASE_DN = 'DC=hospital,DC=test';
export const SERVICE = { dn: 'CN=svc-inlet,OU=Service,DC=hospital,DC=test', password: 'Svc-Reader-2026' };
const ROOT = { dn: 'CN=root,DC=hospital,DC=test', password: 'Root-Secret-2026' };

/** Why the directory tests cannot run here, or null when they can. */
export function slapdMissing(): string | null {
  if (!existsSync(SLAPD) || !existsSync(SLAPADD)) return 'Debian\'s slapd is not installed (apt-get install slapd ldap-utils)';
  if (spawnSync('openssl', ['version']).status !== 0) return 'openssl is not installed';
  return null;
}

// Attribute and class names as Active Directory has them; private OIDs, test use only.
const AD_LIKE_SCHEMA = `
attributetype ( 1.3.6.1.4.1.55555.1.1 NAME 'sAMAccountName' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.55555.1.2 NAME 'userPrincipalName' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.55555.1.3 NAME 'userAccountControl' EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.55555.2.1 NAME 'user' SUP inetOrgPerson STRUCTURAL MAY ( sAMAccountName $ userPrincipalName $ userAccountControl ) )
objectclass ( 1.3.6.1.4.1.55555.2.2 NAME 'group' SUP top STRUCTURAL MUST cn MAY ( member $ description ) )
`;

export interface TestAccount { sam: string; password: string; disabled?: boolean; groups: string[] }

function account(a: TestAccount): string {
  return `dn: CN=${a.sam},OU=People,${BASE_DN}
objectClass: user
cn: ${a.sam}
sn: ${a.sam}
sAMAccountName: ${a.sam}
userPrincipalName: ${a.sam}@hospital.test
userAccountControl: ${a.disabled ? 514 : 512}
userPassword: ${a.password}
`;
}

function ldif(accounts: TestAccount[], groups: string[]): string {
  const entries = [
    `dn: ${BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\ndc: hospital\no: Hospital\n`,
    `dn: OU=People,${BASE_DN}\nobjectClass: organizationalUnit\nou: People\n`,
    `dn: OU=Groups,${BASE_DN}\nobjectClass: organizationalUnit\nou: Groups\n`,
    `dn: OU=Service,${BASE_DN}\nobjectClass: organizationalUnit\nou: Service\n`,
    `dn: ${SERVICE.dn}\nobjectClass: user\ncn: svc-inlet\nsn: svc-inlet\nsAMAccountName: svc-inlet\nuserPassword: ${SERVICE.password}\n`,
    ...accounts.map(account),
    ...groups.map((g) => {
      const members = accounts.filter((a) => a.groups.includes(g)).map((a) => `member: CN=${a.sam},OU=People,${BASE_DN}`);
      return `dn: CN=${g},OU=Groups,${BASE_DN}\nobjectClass: group\ncn: ${g}\n${members.join('\n')}${members.length ? '\n' : ''}`;
    }),
  ];
  return entries.join('\n');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function run(command: string, args: string[], input?: string): void {
  const r = spawnSync(command, args, { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${r.stderr}`);
}

/** Makes a CA and a server certificate for 127.0.0.1 signed by it (the customer's own CA, in the tests). */
export function makeCa(dir: string, name = 'ca'): { caFile: string; certFile: string; keyFile: string } {
  const ca = path.join(dir, `${name}.pem`);
  const caKey = path.join(dir, `${name}.key`);
  const key = path.join(dir, `${name}-server.key`);
  const csr = path.join(dir, `${name}-server.csr`);
  const cert = path.join(dir, `${name}-server.pem`);
  const ext = path.join(dir, `${name}-server.ext`);
  run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', ca, '-days', '2', '-subj', `/CN=Hospital test CA ${name}`]);
  run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=127.0.0.1']);
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run('openssl', ['x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext]);
  return { caFile: ca, certFile: cert, keyFile: key };
}

export interface Slapd {
  ldapUrl: string;
  ldapsUrl: string;
  caFile: string;
  /** Applies an LDIF change as the directory's administrator (disable an account, remove one). */
  modify(changes: string): void;
  stop(): Promise<void>;
}

export async function startSlapd(dir: string, accounts: TestAccount[], groups: string[]): Promise<Slapd> {
  mkdirSync(path.join(dir, 'db'), { recursive: true });
  const { caFile, certFile, keyFile } = makeCa(dir);
  writeFileSync(path.join(dir, 'ad-like.schema'), AD_LIKE_SCHEMA);
  const conf = path.join(dir, 'slapd.conf');
  writeFileSync(conf, `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include ${path.join(dir, 'ad-like.schema')}
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile ${path.join(dir, 'slapd.pid')}
TLSCACertificateFile ${caFile}
TLSCertificateFile ${certFile}
TLSCertificateKeyFile ${keyFile}
database mdb
maxsize 10485760
suffix "${BASE_DN}"
rootdn "${ROOT.dn}"
rootpw ${ROOT.password}
directory ${path.join(dir, 'db')}
access to attrs=userPassword by anonymous auth by self read by * none
access to * by users read by * none
`);
  const data = path.join(dir, 'data.ldif');
  writeFileSync(data, ldif(accounts, groups));
  run(SLAPADD, ['-f', conf, '-l', data]);
  const [ldapPort, ldapsPort] = [await freePort(), await freePort()];
  const ldapUrl = `ldap://127.0.0.1:${ldapPort}`;
  const ldapsUrl = `ldaps://127.0.0.1:${ldapsPort}`;
  // -d 0: stay in the foreground (so the test owns the process) and print nothing
  const child: ChildProcess = spawn(SLAPD, ['-f', conf, '-h', `${ldapUrl}/ ${ldapsUrl}/`, '-d', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // ready when both ports accept connections
  for (const port of [ldapPort, ldapsPort]) {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`slapd exited: ${stderr}`);
      const open = await new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        s.once('connect', () => { s.destroy(); resolve(true); });
        s.once('error', () => resolve(false));
      });
      if (open) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    ldapUrl, ldapsUrl, caFile,
    modify(changes: string) {
      run('ldapmodify', ['-x', '-H', ldapUrl, '-D', ROOT.dn, '-w', ROOT.password], changes);
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
