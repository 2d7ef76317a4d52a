// TAx6xx/PAx6xx Web Sensors: HTTP(S) POST of a JSON object, JsonType 5 (spec §3).
import type { IngestAdapter } from '../adapter.ts';
import { createJsonObjectParser, JSON_OBJECT_MAX_BODY_BYTES } from '../common/comet-json-object.ts';
import { jsonAckAnswer } from '../common/json-ack.ts';
import { WEBSENSOR_CACHE_REASONS, WEBSENSOR_MESSAGE_TYPES, WEBSENSOR_MODELS } from './tables.ts';
import { INGEST_PATH_SEGMENT } from '../families.ts';

export const WEBSENSOR_JSON_TYPE = 5;

const byte = { type: 'integer', minimum: 0, maximum: 255 };

const parser = createJsonObjectParser({
  family: 'websensor-json',
  deviceLine: 'TAx6xx/PAx6xx Web Sensor',
  jsonType: WEBSENSOR_JSON_TYPE,
  jsonVersions: [1],
  messageTypes: WEBSENSOR_MESSAGE_TYPES,
  cacheReasons: WEBSENSOR_CACHE_REASONS,
  models: WEBSENSOR_MODELS,
  extraMessageProperties: {},
  extraChannelProperties: {
    Type: { type: 'array', items: byte, minItems: 2, maxItems: 2 }, // [static id, probe-detected id]
    BinDesc: { type: 'array', items: { type: 'string', maxLength: 32 }, minItems: 2, maxItems: 2 }, // [on, off]
  },
});

export const websensorJsonAdapter: IngestAdapter = {
  family: 'websensor-json',
  pathSegment: INGEST_PATH_SEGMENT['websensor-json'],
  maxBodyBytes: JSON_OBJECT_MAX_BODY_BYTES,
  parse: parser.parse,
  answer: jsonAckAnswer,
};
