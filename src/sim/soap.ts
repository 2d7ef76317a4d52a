// Builds SOAP messages byte for byte as COMET Web Sensors send them (shared/protocols §1.3, §1.4, §1.8).
import type { AlarmState } from '../domain/types.ts';
import { SOAP_NS_CO2, SOAP_NS_T } from '../ingest/soap/parse.ts';

export interface SoapSample {
  serial: string;
  modelCode: number;
  temp?: number;            // 9999 / -9999 are the device's error sentinels
  relHum?: number;
  compQuant?: number;
  pressure?: number;
  co2?: number;             // CO2 models only; -9998 = not yet available
  alarms?: [AlarmState, AlarmState, AlarmState, AlarmState];
  compType?: string;
  tempU?: 'C' | 'F' | 'n/a';
  pressureU?: string;
  timer?: number;
  leds?: [number, number, number];
}

function num(v: number, decimals = 1): string {
  return Number.isInteger(v) && Math.abs(v) >= 9998 ? String(v) : v.toFixed(decimals);
}

export function isCo2Model(modelCode: number): boolean {
  return [4155, 4158, 4161, 4164, 4179, 4180, 4191, 4194, 4199, 4200, 4631, 4637, 4640, 4643].includes(modelCode);
}

export function buildSoapMessage(s: SoapSample): string {
  const alarms = (s.alarms ?? ['no', 'no', 'no', 'no']).join(',');
  const co2 = isCo2Model(s.modelCode);
  const head = '<?xml version="1.0" encoding="utf-8"?>\n' +
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">\n' +
    ' <soap:Body>\n';
  const tail = ' </soap:Body>\n</soap:Envelope>\n';
  const common = `   <passKey>${s.serial}</passKey>\n   <device>${s.modelCode}</device>\n` +
    `   <temp>${num(s.temp ?? 21.5)}</temp>\n   <relHum>${num(s.relHum ?? 45.0)}</relHum>\n   <compQuant>${num(s.compQuant ?? 9.2)}</compQuant>\n`;
  if (co2) {
    const [l1, l2, l3] = s.leds ?? [1, 0, 0];
    return head + `  <InsertTx5xxCO2Sample xmlns="${SOAP_NS_CO2}">\n` + common +
      `   <co2>${Math.round(s.co2 ?? 650)}</co2>\n   <alarms>${alarms}</alarms>\n` +
      `   <lev1>${l1}</lev1>\n   <lev2>${l2}</lev2>\n   <lev3>${l3}</lev3>\n` +
      `   <compType>${s.compType ?? 'Dew point'}</compType>\n   <tempU>${s.tempU ?? 'C'}</tempU>\n   <timer>${s.timer ?? 60}</timer>\n` +
      '  </InsertTx5xxCO2Sample>\n' + tail;
  }
  return head + `  <InsertTx5xxSample xmlns="${SOAP_NS_T}">\n` + common +
    `   <pressure>${num(s.pressure ?? -9999)}</pressure>\n   <alarms>${alarms}</alarms>\n` +
    `   <compType>${s.compType ?? 'Dew point'}</compType>\n   <tempU>${s.tempU ?? 'C'}</tempU>\n` +
    `   <pressureU>${s.pressureU ?? 'hPa'}</pressureU>\n   <timer>${s.timer ?? 60}</timer>\n` +
    '  </InsertTx5xxSample>\n' + tail;
}

/** A plausible slowly drifting reading for demos and load tests. */
export function drift(seed: number, t: number, base: number, amplitude: number): number {
  return base + amplitude * Math.sin(t / 600_000 + seed);
}
