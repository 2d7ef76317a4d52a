// One Ajv instance for all device formats; schemas are compiled once, at module load of each family.
import { Ajv, type ErrorObject, type SchemaObject } from 'ajv';

const ajv = new Ajv({ allErrors: false, strict: true });

export const HEX_FLOAT_PATTERN = '^[0-9A-Fa-f]{8}$';
export const RFC3339_PATTERN = '^\\d{4}-\\d{2}-\\d{2}[Tt ]\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?([Zz]|[+-]\\d{2}:\\d{2})$';

/** Words for the patterns above, so a refusal names the expected form instead of a regex. */
const PATTERN_WORDS: Record<string, string> = {
  [HEX_FLOAT_PATTERN]: '8 hex digits',
  [RFC3339_PATTERN]: 'an RFC 3339 date-time with offset',
};

export type Validation<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * Compiles a schema and returns a validator whose refusal names the offending field.
 * `fieldName` turns a JSON pointer segment list into the name devices' documentation uses; a caller
 * validating a part of a message passes `namePrefix` (e.g. `Channels[2].`) to place it.
 */
export function compileSchema<T>(
  schema: SchemaObject,
  fieldName: (segments: string[]) => string = dottedName,
): (value: unknown, namePrefix?: string) => Validation<T> {
  const validate = ajv.compile<T>(schema);
  return (value, namePrefix = '') => {
    if (validate(value)) return { ok: true, value };
    return { ok: false, reason: describeError(validate.errors![0], (segments) => namePrefix + fieldName(segments)) };
  };
}

function describeError(error: ErrorObject, fieldName: (segments: string[]) => string): string {
  const segments = error.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const field = segments.length > 0 ? fieldName(segments) : 'message';
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `missing required field ${fieldName([...segments, String(p.missingProperty)])}`;
    case 'type':
      return `field ${field} must be ${p.type === 'integer' ? 'an integer' : `of type ${p.type}`}`;
    case 'enum':
      return `field ${field} must be one of ${(p.allowedValues as unknown[]).join(', ')}`;
    case 'const':
      return `field ${field} must be ${JSON.stringify(p.allowedValue)}`;
    case 'pattern':
      return `field ${field} must be ${PATTERN_WORDS[String(p.pattern)] ?? `of the form ${p.pattern}`}`;
    case 'minimum':
    case 'maximum':
      return `field ${field} must be ${p.comparison} ${p.limit}`;
    case 'minItems':
    case 'maxItems':
      return `field ${field} must have ${error.keyword === 'minItems' ? 'at least' : 'at most'} ${p.limit} elements`;
    case 'maxLength':
      return `field ${field} must be at most ${p.limit} characters`;
    default:
      return `field ${field} ${error.message ?? 'is invalid'}`;
  }
}

/** `['Channels', '2', 'Val']` -> `Channels[2].Val` */
export function dottedName(segments: string[]): string {
  return segments.reduce((name, s) => (/^\d+$/.test(s) ? `${name}[${s}]` : name ? `${name}.${s}` : s), '');
}
