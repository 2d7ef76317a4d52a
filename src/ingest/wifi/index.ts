// WiFi sensors Wx7xx: HTTP(S) POST of a JSON object, JsonType 2 (spec §4).
import type { IngestAdapter } from '../adapter.ts';
import { createJsonObjectParser, hexFloatPairSchema, JSON_OBJECT_MAX_BODY_BYTES } from '../common/comet-json-object.ts';
import { jsonAckAnswer } from '../common/json-ack.ts';
import { WIFI_CACHE_REASONS, WIFI_MESSAGE_TYPES, WIFI_MODELS } from './tables.ts';
import { INGEST_PATH_SEGMENT } from '../families.ts';

export const WIFI_JSON_TYPE = 2;

const dbm = { type: 'integer', minimum: -128, maximum: 0 };

const parser = createJsonObjectParser({
  family: 'wifi',
  deviceLine: 'WiFi sensor (Wx7xx)',
  jsonType: WIFI_JSON_TYPE,
  jsonVersions: [1],
  messageTypes: WIFI_MESSAGE_TYPES,
  cacheReasons: WIFI_CACHE_REASONS,
  models: WIFI_MODELS,
  extraMessageProperties: {
    Rssi: { type: 'object', required: ['Now', 'Sample'], properties: { Now: dbm, Sample: dbm } },
  },
  extraChannelProperties: { AlarmLim: hexFloatPairSchema },
});

export const wifiAdapter: IngestAdapter = {
  family: 'wifi',
  pathSegment: INGEST_PATH_SEGMENT.wifi,
  maxBodyBytes: JSON_OBJECT_MAX_BODY_BYTES,
  parse: parser.parse,
  answer: jsonAckAnswer,
};
