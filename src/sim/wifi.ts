// Simulated WiFi sensor Wx7xx messages (JsonType 2, spec §4).
import { encodeHexFloat32 } from '../ingest/common/hex-float.ts';
import { WIFI_JSON_TYPE } from '../ingest/wifi/index.ts';
import { WIFI_MESSAGE_TYPES } from '../ingest/wifi/tables.ts';
import { channelHead, headerFields, msgTypeNumber, toBody, type SimJsonChannel, type SimJsonMessage } from './comet-json-object.ts';

export interface SimWifiChannel extends SimJsonChannel {
  alarmLimits?: [number, number];
}

export interface SimWifiMessage extends SimJsonMessage<SimWifiChannel> {
  rssi?: { now: number; sample: number };
}

export function buildWifiMessage(m: SimWifiMessage): Record<string, unknown> {
  const hexCase = m.hexCase ?? 'upper';
  return {
    ...headerFields(m, WIFI_JSON_TYPE, msgTypeNumber(m.msgType, WIFI_MESSAGE_TYPES)),
    Rssi: { Now: m.rssi?.now ?? -60, Sample: m.rssi?.sample ?? -60 },
    LocalIP: m.localIp ?? '192.168.1.50',
    Channels: m.channels.map((c) => ({
      ...channelHead(c, hexCase),
      Alarm: c.alarms ?? [0, 0],
      AlarmLim: (c.alarmLimits ?? [0, 0]).map((limit) => encodeHexFloat32(limit, hexCase)),
      AlarmMode: c.alarmModes ?? [0, 0],
    })),
  };
}

export function buildWifiBody(m: SimWifiMessage): Buffer {
  return toBody(buildWifiMessage(m));
}
