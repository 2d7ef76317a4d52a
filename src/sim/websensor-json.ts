// Simulated TAx6xx/PAx6xx Web Sensor messages (JsonType 5, spec §3).
import { WEBSENSOR_JSON_TYPE } from '../ingest/websensor-json/index.ts';
import { WEBSENSOR_MESSAGE_TYPES } from '../ingest/websensor-json/tables.ts';
import { channelHead, headerFields, msgTypeNumber, toBody, type SimJsonChannel, type SimJsonMessage } from './comet-json-object.ts';

export interface SimWebsensorChannel extends SimJsonChannel {
  /** [static id, probe-detected id]; 255 = no probe detection. */
  type?: [number, number];
  /** Only PA8652 binary inputs: the channel is a binary input and `value` is 0 or 1. */
  binDesc?: [string, string];
}

export interface SimWebsensorMessage extends SimJsonMessage<SimWebsensorChannel> {
  /** The SDK text says `LocalIP`, device captures say `LocalIPv4` (the default here). */
  localIpKey?: 'LocalIP' | 'LocalIPv4';
}

export function buildWebsensorMessage(m: SimWebsensorMessage): Record<string, unknown> {
  const hexCase = m.hexCase ?? 'upper';
  return {
    ...headerFields(m, WEBSENSOR_JSON_TYPE, msgTypeNumber(m.msgType, WEBSENSOR_MESSAGE_TYPES)),
    [m.localIpKey ?? 'LocalIPv4']: m.localIp ?? '192.168.1.60',
    Channels: m.channels.map((c) => ({
      ...channelHead({ ...c, dec: c.dec ?? (c.binDesc ? 0 : 1) }, hexCase),
      Type: c.type ?? [2, 255],
      Alarm: c.alarms ?? [0, 0],
      AlarmMode: c.alarmModes ?? [0, 0],
      ...(c.binDesc ? { BinDesc: c.binDesc } : {}),
    })),
  };
}

export function buildWebsensorBody(m: SimWebsensorMessage): Buffer {
  return toBody(buildWebsensorMessage(m));
}
