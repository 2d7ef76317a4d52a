// The one configuration file IT edits. Validated with ajv at start and by `inlet config check`.
/** Who hears of an alarm at a location ('*' = every location and system alarms), how often, and who next. */
export interface NotificationRoute {
  location: string;
  to: string[];
  /** Send again while nobody has acknowledged the alarm; 0 = once. */
  repeatMinutes: number;
  /** Also tell escalateTo when the alarm is still unacknowledged this long after it was raised; 0 = never. */
  escalateAfterMinutes: number;
  escalateTo: string[];
}

/** A scheduled report written in the configuration file (administrators can add more in the viewer). */
export interface ConfigReportSchedule {
  name: string;
  /** Every device at this location... */
  location?: string;
  /** ...or these device ids. */
  devices?: number[];
  period: 'daily' | 'weekly' | 'monthly';
  mailTo: string[];
  /** Folder (a network share on Windows) the PDF is written to; '' = none. */
  folder: string;
}

/** Members of a directory group get a role, on everything (global) or on the zones named by path. */
export interface DirectoryGroupMapping {
  /** The group's distinguished name, e.g. CN=Inlet-Pharmacy-QA,OU=Groups,DC=hospital,DC=local. */
  group: string;
  role: 'viewer' | 'operator' | 'administrator';
  /** Zone paths ("Hospital/Pharmacy"); empty with global: true. */
  zones: string[];
  global: boolean;
}

/** Sign-in against the customer's Active Directory (or another LDAP directory). Off by default. */
export interface DirectoryConfig {
  enabled: boolean;
  /** ldaps://dc1.hospital.local:636 (or ldap:// with startTls). Several, tried in order. */
  urls: string[];
  startTls: boolean;
  /** PEM file of the CA that signed the domain controllers' certificates (the customer's own CA). */
  caFile: string;
  /** The service account Inlet searches with (read-only), and its password (or INLET_DIRECTORY_PASSWORD). */
  bindDn: string;
  bindPassword: string;
  /** Where users are searched, e.g. DC=hospital,DC=local. */
  baseDn: string;
  /** Finds the account by what was typed: {login} = the whole name, {sam} = the part before @ (or after \). */
  userFilter: string;
  /** Finds the groups the account is a member of: {dn} = the account's distinguished name. */
  groupFilter: string;
  /** Where groups are searched; '' = baseDn. */
  groupBaseDn: string;
  /** Disabled accounts: AD's userAccountControl bit 2 is always checked; this filter, if set, too. */
  disabledFilter: string;
  groups: DirectoryGroupMapping[];
  timeoutMs: number;
}

export interface InletConfig {
  /** Names the Windows service and its stop pipe; several instances can run on one server. */
  instanceName: string;
  dataDir: string;
  publicUrl: string;
  http: { host: string; port: number; keepAliveTimeoutS: number; requestTimeoutS: number };
  https: {
    enabled: boolean; host: string; port: number; certFile: string; keyFile: string;
    caFile: string; requireClientCert: boolean;
  };
  store: {
    kind: 'sqlite' | 'mssql';
    sqlite: { file: string };
    mssql: { connectionString: string };
  };
  ingest: {
    soap: { refusals: 'device-error' | 'ok' };
    /**
     * While answering uploads saturates the CPUs, the journal's apply waits, up to this apply lag (s),
     * so that the CPU answers devices first; every upload is durable in the journal meanwhile.
     * Past it (sustained overload) the apply runs whatever the load. 0: the apply never waits.
     */
    applyYieldMaxLagS: number;
  };
  throttle: { enabled: boolean; earlyTolerance: number; earlyLimit: number; window: number; floodLimit: number };
  log: { level: 'error' | 'warn' | 'info' | 'debug'; console: boolean; file: boolean; maxSizeMb: number; maxFiles: number };
  /** The customer's own mail server; nothing is sent anywhere else. */
  smtp: { host: string; port: number; secure: boolean; requireTls: boolean; rejectUnauthorized: boolean; user: string; password: string; from: string };
  notifications: {
    enabled: boolean;
    /** How often open alarms are looked at (node-cron, with seconds). */
    schedule: string;
    routes: NotificationRoute[];
  };
  jobs: {
    /** IANA time zone the schedules are read in; '' = the server's own. */
    timezone: string;
    verify: { enabled: boolean; schedule: string };
    offline: { enabled: boolean; schedule: string; missedIntervals: number };
    housekeeping: { enabled: boolean; schedule: string };
  };
  /** Alarms the devices raise themselves. */
  alarms: {
    /** A sensor error (failed or missing probe) raises an alarm once it has lasted this long by sample time; 0 = at the first error reading. */
    sensorErrorDelayS: number;
  };
  directory: DirectoryConfig;
  /** The audit trail's copies outside the database (issue 18). */
  audit: {
    /** The chain heads sent to a syslog server (RFC 5424) after every verification, besides the heads file. */
    syslog: { enabled: boolean; host: string; port: number; protocol: 'udp' | 'tcp'; facility: number; timeoutMs: number };
  };
  /** Purging old data in the housekeeping job, below an audited horizon (docs/retention.md). Off by default. */
  retention: {
    enabled: boolean;
    /** Uploads and samples received longer ago than this may be purged; must be set (>= 1) when enabled. */
    keepDays: number;
    /** Events and closed alarms (the audit trail) older than this may be purged; 0 = kept for ever. */
    auditKeepDays: number;
    /** Rows deleted per transaction. */
    chunkSize: number;
    /**
     * Raw bodies (the bytes each upload arrived as) received longer ago than this are emptied, their
     * SHA-256 kept so every chain still verifies (migration 031); 0 = kept as long as their upload.
     * Works on its own: retention.enabled governs the data horizon only.
     */
    bodyKeepDays: number;
  };
  /** PDF reports (src/report/). */
  reports: {
    /** Site name in every report's title block. */
    site: string;
    /** IANA time zone the reports' times and days are in; '' = jobs.timezone, else UTC. */
    timezone: string;
    /** Activation energy for mean kinetic temperature, kJ/mol (USP <1079> uses 83.144). */
    activationEnergyKJPerMol: number;
    /** When the scheduled reports of the past day, week or month are made (node-cron, in jobs.timezone). */
    schedule: string;
    schedules: ConfigReportSchedule[];
  };
  /** What keeps people on the LAN from slowing ingest or filling the disk (issue 15). */
  security: {
    /** Refused uploads: what is archived of each, how many are kept and how long, how many per source address. */
    refusals: { prefixBytes: number; maxRows: number; keepDays: number; perSourcePerMinute: number; burst: number };
    /** Below this much free space in the data folder's file system: a system alarm and a /health warning. */
    minFreeDiskMiB: number;
    /** Password hashes computed at once (each takes 32 MiB and a thread-pool thread); sign-ins beyond wait, then get 503. */
    concurrentPasswordHashes: number;
    /** Failed sign-ins for one user name from one address allowed before each next try must wait, firstDelayS doubling up to maxDelayS. */
    signIn: { freeFailures: number; firstDelayS: number; maxDelayS: number };
    /**
     * Serve the viewer and its API only over HTTPS (https.enabled must be on): plain HTTP keeps device
     * uploads, /health and /metrics, and sends everything else to HTTPS; HTTPS answers carry HSTS.
     */
    viewerHttpsOnly: boolean;
    /** Readings dated before their device's registration (beyond an hour) are quarantined with an event. */
    quarantineBackfill: boolean;
    /**
     * Host names the viewer may be reached by, besides IP addresses, localhost, this computer's name and
     * the host of publicUrl. Any other Host header is refused (DNS rebinding). ["*"]: no check.
     */
    allowedHosts: string[];
  };
}

const JOB_SWITCH = { enabled: { type: 'boolean' }, schedule: { type: 'string', format: 'cron' } } as const;

export const CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    instanceName: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,40}$' },
    dataDir: { type: 'string', minLength: 1, description: 'folder for the embedded database, spool and logs' },
    publicUrl: { type: 'string', description: 'base URL devices use to reach Inlet, e.g. http://inlet.example.local (printed in entry points)' },
    http: {
      type: 'object', additionalProperties: false,
      properties: {
        host: { type: 'string' },
        port: { type: 'integer', minimum: 0, maximum: 65535 },
        keepAliveTimeoutS: { type: 'integer', minimum: 1, maximum: 3600 },
        requestTimeoutS: { type: 'integer', minimum: 1, maximum: 3600 },
      },
    },
    https: {
      type: 'object', additionalProperties: false,
      properties: {
        enabled: { type: 'boolean' },
        host: { type: 'string' },
        port: { type: 'integer', minimum: 0, maximum: 65535 },
        certFile: { type: 'string' },
        keyFile: { type: 'string' },
        caFile: { type: 'string' },
        requireClientCert: { type: 'boolean' },
      },
    },
    store: {
      type: 'object', additionalProperties: false,
      properties: {
        kind: { enum: ['sqlite', 'mssql'] },
        sqlite: { type: 'object', additionalProperties: false, properties: { file: { type: 'string', minLength: 1 } } },
        mssql: { type: 'object', additionalProperties: false, properties: { connectionString: { type: 'string' } } },
      },
    },
    ingest: {
      type: 'object', additionalProperties: false,
      properties: {
        soap: { type: 'object', additionalProperties: false, properties: { refusals: { enum: ['device-error', 'ok'] } } },
        applyYieldMaxLagS: { type: 'number', minimum: 0, maximum: 300 },
      },
    },
    throttle: {
      type: 'object', additionalProperties: false,
      properties: {
        enabled: { type: 'boolean' },
        earlyTolerance: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
        earlyLimit: { type: 'integer', minimum: 1 },
        window: { type: 'integer', minimum: 1 },
        floodLimit: { type: 'integer', minimum: 2 },
      },
    },
    log: {
      type: 'object', additionalProperties: false,
      properties: {
        level: { enum: ['error', 'warn', 'info', 'debug'] },
        console: { type: 'boolean' },
        file: { type: 'boolean' },
        maxSizeMb: { type: 'integer', minimum: 1 },
        maxFiles: { type: 'integer', minimum: 1 },
      },
    },
    smtp: {
      type: 'object', additionalProperties: false,
      properties: {
        host: { type: 'string' }, port: { type: 'integer', minimum: 1, maximum: 65535 }, secure: { type: 'boolean' },
        requireTls: { type: 'boolean' }, rejectUnauthorized: { type: 'boolean' },
        user: { type: 'string' }, password: { type: 'string' }, from: { type: 'string', minLength: 3 },
      },
    },
    notifications: {
      type: 'object', additionalProperties: false,
      properties: {
        enabled: { type: 'boolean' },
        schedule: { type: 'string', format: 'cron' },
        routes: {
          type: 'array', maxItems: 200,
          items: {
            type: 'object', additionalProperties: false, required: ['location', 'to'],
            properties: {
              location: { type: 'string' },
              to: { type: 'array', minItems: 1, items: { type: 'string', format: 'email' } },
              repeatMinutes: { type: 'integer', minimum: 0, default: 60 },
              escalateAfterMinutes: { type: 'integer', minimum: 0, default: 0 },
              escalateTo: { type: 'array', items: { type: 'string', format: 'email' }, default: [] },
            },
          },
        },
      },
    },
    jobs: {
      type: 'object', additionalProperties: false,
      properties: {
        timezone: { type: 'string' },
        verify: { type: 'object', additionalProperties: false, properties: JOB_SWITCH },
        offline: {
          type: 'object', additionalProperties: false,
          properties: { ...JOB_SWITCH, missedIntervals: { type: 'number', minimum: 1.5, maximum: 1000 } },
        },
        housekeeping: { type: 'object', additionalProperties: false, properties: JOB_SWITCH },
      },
    },
    alarms: {
      type: 'object', additionalProperties: false,
      properties: { sensorErrorDelayS: { type: 'integer', minimum: 0, maximum: 86_400 } },
    },
    audit: {
      type: 'object', additionalProperties: false,
      properties: {
        syslog: {
          type: 'object', additionalProperties: false,
          properties: {
            enabled: { type: 'boolean' },
            host: { type: 'string', maxLength: 255, description: 'the syslog server, e.g. "siem.example.local" or "10.0.0.5"' },
            port: { type: 'integer', minimum: 1, maximum: 65_535 },
            protocol: { enum: ['udp', 'tcp'] },
            facility: { type: 'integer', minimum: 0, maximum: 23, description: 'RFC 5424 facility; 13 is "log audit"' },
            timeoutMs: { type: 'integer', minimum: 100, maximum: 60_000 },
          },
        },
      },
    },
    directory: {
      type: 'object', additionalProperties: false,
      properties: {
        enabled: { type: 'boolean' },
        urls: { type: 'array', items: { type: 'string', pattern: '^ldaps?://' }, description: 'e.g. ["ldaps://dc1.example.local"]' },
        startTls: { type: 'boolean' },
        caFile: { type: 'string' },
        bindDn: { type: 'string' },
        bindPassword: { type: 'string' },
        baseDn: { type: 'string' },
        userFilter: { type: 'string', pattern: '\\{(login|sam)\\}' },
        groupFilter: { type: 'string', pattern: '\\{dn\\}' },
        groupBaseDn: { type: 'string' },
        disabledFilter: { type: 'string' },
        groups: {
          type: 'array', maxItems: 200,
          items: {
            type: 'object', additionalProperties: false, required: ['group', 'role'],
            properties: {
              group: { type: 'string', minLength: 3 },
              role: { type: 'string', enum: ['viewer', 'operator', 'administrator'] },
              zones: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
              global: { type: 'boolean', default: false },
            },
          },
        },
        timeoutMs: { type: 'integer', minimum: 500, maximum: 60_000 },
      },
    },
    retention: {
      type: 'object', additionalProperties: false,
      properties: {
        enabled: { type: 'boolean' },
        keepDays: { type: 'integer', minimum: 0, maximum: 36_500 },
        auditKeepDays: { type: 'integer', minimum: 0, maximum: 36_500 },
        chunkSize: { type: 'integer', minimum: 100, maximum: 100_000 },
        bodyKeepDays: { type: 'integer', minimum: 0, maximum: 36_500 },
      },
    },
    reports: {
      type: 'object', additionalProperties: false,
      properties: {
        site: { type: 'string', maxLength: 200 },
        timezone: { type: 'string' },
        activationEnergyKJPerMol: { type: 'number', exclusiveMinimum: 0, maximum: 1000 },
        schedule: { type: 'string', format: 'cron' },
        schedules: {
          type: 'array', maxItems: 200,
          items: {
            type: 'object', additionalProperties: false, required: ['name', 'period'],
            properties: {
              name: { type: 'string', minLength: 1, maxLength: 100 },
              location: { type: 'string' },
              devices: { type: 'array', minItems: 1, maxItems: 100, items: { type: 'integer', minimum: 1 } },
              period: { enum: ['daily', 'weekly', 'monthly'] },
              mailTo: { type: 'array', items: { type: 'string', format: 'email' }, default: [] },
              folder: { type: 'string', default: '' },
            },
          },
        },
      },
    },
    security: {
      type: 'object', additionalProperties: false,
      properties: {
        refusals: {
          type: 'object', additionalProperties: false,
          properties: {
            prefixBytes: { type: 'integer', minimum: 0, maximum: 8000 },
            maxRows: { type: 'integer', minimum: 100, maximum: 10_000_000 },
            keepDays: { type: 'integer', minimum: 1, maximum: 3650 },
            perSourcePerMinute: { type: 'number', exclusiveMinimum: 0 },
            burst: { type: 'integer', minimum: 1 },
          },
        },
        minFreeDiskMiB: { type: 'integer', minimum: 0 },
        concurrentPasswordHashes: { type: 'integer', minimum: 1, maximum: 64 },
        viewerHttpsOnly: { type: 'boolean' },
        quarantineBackfill: { type: 'boolean' },
        allowedHosts: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 253 }, maxItems: 100 },
        signIn: {
          type: 'object', additionalProperties: false,
          properties: {
            freeFailures: { type: 'integer', minimum: 1, maximum: 100 },
            firstDelayS: { type: 'number', exclusiveMinimum: 0, maximum: 3600 },
            maxDelayS: { type: 'number', exclusiveMinimum: 0, maximum: 86_400 },
          },
        },
      },
    },
  },
} as const;

export const DEFAULT_CONFIG: InletConfig = {
  instanceName: 'default',
  dataDir: './data',
  publicUrl: '',
  http: { host: '0.0.0.0', port: 8080, keepAliveTimeoutS: 75, requestTimeoutS: 30 },
  https: { enabled: false, host: '0.0.0.0', port: 8443, certFile: '', keyFile: '', caFile: '', requireClientCert: false },
  store: { kind: 'sqlite', sqlite: { file: 'inlet.sqlite' }, mssql: { connectionString: '' } },
  ingest: { soap: { refusals: 'device-error' }, applyYieldMaxLagS: 10 },
  throttle: { enabled: true, earlyTolerance: 0.25, earlyLimit: 3, window: 10, floodLimit: 20 },
  log: { level: 'info', console: true, file: true, maxSizeMb: 20, maxFiles: 10 },
  smtp: { host: '', port: 25, secure: false, requireTls: false, rejectUnauthorized: true, user: '', password: '', from: 'inlet@localhost' },
  notifications: { enabled: false, schedule: '*/30 * * * * *', routes: [] },
  jobs: {
    timezone: '',
    verify: { enabled: true, schedule: '30 2 * * *' },
    offline: { enabled: true, schedule: '* * * * *', missedIntervals: 3 },
    housekeeping: { enabled: true, schedule: '15 3 * * *' },
  },
  alarms: { sensorErrorDelayS: 300 },
  directory: {
    enabled: false, urls: [], startTls: false, caFile: '', bindDn: '', bindPassword: '', baseDn: '',
    // Active Directory: the account by user principal name or sAMAccountName, its direct groups by member.
    userFilter: '(&(objectClass=user)(|(userPrincipalName={login})(sAMAccountName={sam})))',
    groupFilter: '(&(objectClass=group)(member={dn}))',
    groupBaseDn: '', disabledFilter: '', groups: [], timeoutMs: 5000,
  },
  audit: { syslog: { enabled: false, host: '', port: 514, protocol: 'udp', facility: 13, timeoutMs: 5000 } },
  retention: { enabled: false, keepDays: 0, auditKeepDays: 0, chunkSize: 5000, bodyKeepDays: 0 },
  reports: { site: '', timezone: '', activationEnergyKJPerMol: 83.144, schedule: '20 0 * * *', schedules: [] },
  security: {
    refusals: { prefixBytes: 4096, maxRows: 20_000, keepDays: 30, perSourcePerMinute: 30, burst: 120 },
    minFreeDiskMiB: 1024,
    concurrentPasswordHashes: 2,
    signIn: { freeFailures: 3, firstDelayS: 1, maxDelayS: 900 },
    viewerHttpsOnly: false,
    quarantineBackfill: true,
    allowedHosts: [],
  },
};
