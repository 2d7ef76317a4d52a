// The configuration's validator. ajv compiles the schema into a function, which took about half of
// a short command's time (`inlet device add` validates the configuration each run). The compiled
// code is kept in node_modules/.cache/inlet/ under a hash of the schema and the ajv version, and
// the next process loads it instead of compiling again. Where that folder cannot be written (an
// installed copy run by a user who may not change it), and in the installer's bundle (no
// node_modules), every process compiles, as before. ajv itself is imported statically, so that the
// bundler includes it; loading it costs a fraction of compiling with it.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validate as isCronExpression } from 'node-cron';
import { Ajv, _, type ErrorObject } from 'ajv';
import standalone from 'ajv/dist/standalone/index.js';
import { CONFIG_SCHEMA } from './schema.ts';

export interface ConfigValidator { (value: unknown): boolean; errors?: ErrorObject[] | null }

/** Formats the schema names that JSON Schema does not define; the kept code refers to them. */
const FORMATS = {
  cron: (text: string) => isCronExpression(text),
  // a plain shape check: the SMTP server has the final word on an address
  email: (text: string) => /^[^@\s]+@[^@\s]+$/.test(text),
};

/** Changes whenever the kept code would differ: the schema, ajv, or how this file makes it. */
const FORMAT_OF_KEPT_CODE = 1;

const require = createRequire(import.meta.url);

/** src/config or dist/config: the package root is two folders up. */
export const VALIDATOR_CACHE_DIR = path.join(fileURLToPath(new URL('../../', import.meta.url)), 'node_modules', '.cache', 'inlet');

/** Where this schema's code is kept, or null where ajv is not an installed package (the bundle). */
export function keptValidatorFile(dir = VALIDATOR_CACHE_DIR): string | null {
  let ajvVersion: string;
  try {
    ajvVersion = (JSON.parse(readFileSync(require.resolve('ajv/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
  const key = createHash('sha256').update(JSON.stringify({ CONFIG_SCHEMA, ajvVersion, FORMAT_OF_KEPT_CODE })).digest('hex').slice(0, 16);
  return path.join(dir, `config-validator-${key}.cjs`);
}

function compile(): { validate: ConfigValidator; code: string } {
  const ajv = new Ajv({ allErrors: true, strict: true, code: { source: true, formats: _`CONFIG_FORMATS` } });
  for (const [name, check] of Object.entries(FORMATS)) ajv.addFormat(name, check);
  const validate = ajv.compile(CONFIG_SCHEMA);
  // ajv's standalone code sets module.exports; wrapped, it takes the formats as an argument
  const code = `'use strict';\n// made by src/config/validator.ts from the configuration schema; deleted freely\n` +
    `module.exports = function (CONFIG_FORMATS) {\nconst module = { exports: {} };\n${standalone.default(ajv, validate)}\nreturn module.exports;\n};\n`;
  return { validate, code };
}

let validator: ConfigValidator | null = null;

/** The configuration's validator: the kept code when there is some for this schema, else compiled (and kept). */
export function configValidator(dir = VALIDATOR_CACHE_DIR): ConfigValidator {
  if (validator && dir === VALIDATOR_CACHE_DIR) return validator;
  const file = keptValidatorFile(dir);
  let found: ConfigValidator | null = null;
  if (file && existsSync(file)) {
    try {
      found = (require(file) as (formats: typeof FORMATS) => ConfigValidator)(FORMATS);
    } catch {
      found = null;   // unreadable or from elsewhere: compile again and replace it
    }
  }
  if (!found) {
    const { validate, code } = compile();
    found = validate;
    if (file === null) return found;
    const partial = `${file}.${process.pid}.partial`;
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(partial, code);
      renameSync(partial, file);   // whole or not at all, also when two commands start at once
    } catch {
      rmSync(partial, { force: true });   // a folder this user may not write: compile each time
    }
  }
  if (dir === VALIDATOR_CACHE_DIR) validator = found;
  return found;
}
