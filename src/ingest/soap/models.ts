// Model codes sent in the SOAP `device` / P-line `kind` element (shared/protocols §1.6, §2).
// Which quantities a model measures is our reading of COMET's model numbering [inferred];
// it is used only to drop channels a model does not have (those carry -9999 fillers).

export type SoapQuantity = 'temperature' | 'relative_humidity' | 'computed' | 'pressure' | 'co2';

export interface SoapModel {
  code: number;
  model: string;
  line: 'T' | 'T-CO2' | 'H' | 'H-CO2' | 'P';
  quantities: readonly SoapQuantity[];
}

const T: readonly SoapQuantity[] = ['temperature'];
const TRH: readonly SoapQuantity[] = ['temperature', 'relative_humidity', 'computed'];
const TRHP: readonly SoapQuantity[] = ['temperature', 'relative_humidity', 'computed', 'pressure'];
const CO2: readonly SoapQuantity[] = ['co2'];
const CO2TRH: readonly SoapQuantity[] = ['temperature', 'relative_humidity', 'computed', 'co2'];

const TABLE: [number, string, SoapModel['line'], readonly SoapQuantity[]][] = [
  // T-line T+RH+P schema (soap-t+rh+p.txt v1.0)
  [4106, 'T4511', 'T', T], [4107, 'T3511', 'T', TRH], [4124, 'T2514', 'T', T], [4129, 'T7511', 'T', TRHP],
  [4144, 'T0510', 'T', T], [4145, 'T3510', 'T', TRH], [4146, 'T7510', 'T', TRHP], [4173, 'T0610', 'T', T],
  [4174, 'T4611', 'T', T], [4175, 'T3610', 'T', TRH], [4176, 'T3611', 'T', TRH], [4177, 'T7610', 'T', TRHP],
  [4178, 'T7611', 'T', TRHP], [4195, 'T7613D', 'T', TRHP],
  // T-line CO2 schema (soap-co2.txt v1.1)
  [4155, 'T5540', 'T-CO2', CO2], [4158, 'T6540', 'T-CO2', CO2TRH], [4161, 'T5541', 'T-CO2', CO2],
  [4164, 'T6541', 'T-CO2', CO2TRH], [4179, 'T6640', 'T-CO2', CO2TRH], [4180, 'T5640', 'T-CO2', CO2],
  [4191, 'T5545', 'T-CO2', CO2], [4194, 'T6545', 'T-CO2', CO2TRH], [4199, 'T5641', 'T-CO2', CO2],
  [4200, 'T6641', 'T-CO2', CO2TRH],
  // H-line (Hx5xx SDK)
  [4656, 'H4531', 'H', T], [4657, 'H0530', 'H', T], [4658, 'H3531', 'H', TRH], [4659, 'H3530', 'H', TRH],
  [4660, 'H7530', 'H', TRHP], [4661, 'H7531', 'H', TRHP], [4673, 'H3531R', 'H', TRH], [4674, 'H4531R', 'H', T],
  [4675, 'H7531R', 'H', TRHP], [4676, 'H3536', 'H', TRH],
  [4631, 'H5524', 'H-CO2', CO2], [4637, 'H6520', 'H-CO2', CO2TRH], [4640, 'H5521', 'H-CO2', CO2],
  [4643, 'H6521', 'H-CO2', CO2TRH],
  // P-line SOAP v2 (p8xxx-sdk soap.txt v2.0); channels are self-described there
  [4352, 'P8511', 'P', []], [4353, 'P8541', 'P', []], [4354, 'P8510', 'P', []], [4355, 'P8610', 'P', []],
  [4356, 'P8631', 'P', []], [4358, 'P8611', 'P', []], [4359, 'P8641', 'P', []], [4360, 'P8652', 'P', []],
  [4361, 'P8552', 'P', []], [4362, 'P8653', 'P', []],
];

export const SOAP_MODELS: ReadonlyMap<number, SoapModel> = new Map(
  TABLE.map(([code, model, line, quantities]) => [code, { code, model, line, quantities }]),
);

const BY_NAME: ReadonlyMap<string, SoapModel> = new Map([...SOAP_MODELS.values()].map((m) => [m.model.toUpperCase(), m]));

export function soapModelByName(name: string): SoapModel | undefined {
  return BY_NAME.get(name.trim().toUpperCase());
}

/** Known model names one typing slip away from `name` (a wrong, missing, extra or swapped character). */
export function similarSoapModels(name: string): string[] {
  const wanted = name.trim().toUpperCase();
  return [...BY_NAME.keys()].filter((known) => typingDistance(wanted, known) === 1).sort();
}

/** Optimal string alignment distance: edits, counting two swapped neighbours as one. */
function typingDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
