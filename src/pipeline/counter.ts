// Message counter (OrderId) continuity, spec §8: a live periodic message whose counter does not follow
// the device's previous message, with no restart message in between, means messages were lost or
// replayed, or the device restarted unseen. That is worth a warning event, never a refusal: the data
// itself is still the device's. Pure: the caller passes receive times, so tests use a synthetic clock.
import type { Family, MessageKind } from '../domain/types.ts';

/** Where each family's counter wraps; null = the family sends no counter (SOAP). */
export const COUNTER_MODULUS: Record<Family, number | null> = {
  soap: null,
  wifi: 2 ** 32,              // OrderId uint32, spec §4.2
  'websensor-json': 2 ** 32,  // OrderId uint32, spec §3.2
  logger: 256,                // OrderId 0-255, spec §5.2
};

export interface CounterState {
  /** Counter of the device's last message seen (any kind); null until one is seen. */
  last: number | null;
  lastEventAt: number | null;
  /** Breaks found since the last event, not yet reported because of the rate limit. */
  unreported: number;
}

export function newCounterState(): CounterState {
  return { last: null, lastEventAt: null, unreported: 0 };
}

export interface CounterInput {
  family: Family;
  receivedAt: number;
  kind: MessageKind;
  fromCache: boolean;
  /** Counter of the first message in the upload (a logger batch carries many), and of the last. */
  firstCounter: number | null;
  lastCounter: number | null;
}

export interface CounterBreak {
  previous: number;
  expected: number;
  got: number;
  /** Messages missing between previous and got, or null when the counter went back (replay or unseen restart). */
  missing: number | null;
  /** Further breaks found since the last report and not reported one by one. */
  alsoUnreported: number;
}

/**
 * Checks one upload and advances the state (mutated in place). Returns a break to report, or null
 * when the counter follows, the message is not a live periodic one, or a report was made within
 * `reportEveryMs` (the break is then counted and told with the next report).
 */
export function checkCounter(state: CounterState, input: CounterInput, reportEveryMs: number): CounterBreak | null {
  const modulus = COUNTER_MODULUS[input.family];
  if (modulus === null || input.firstCounter === null || input.lastCounter === null) return null;
  const previous = state.last;
  state.last = input.lastCounter;
  // Cached resends come in their original order before the live message, and a restart starts the count
  // afresh (first = 0), so only a live periodic message measures the continuity.
  if (previous === null || input.fromCache || input.kind !== 'periodic') return null;
  const expected = (previous + 1) % modulus;
  if (input.firstCounter === expected) return null;
  state.unreported++;
  if (state.lastEventAt !== null && input.receivedAt - state.lastEventAt < reportEveryMs) return null;
  const ahead = (((input.firstCounter - expected) % modulus) + modulus) % modulus;
  const report: CounterBreak = {
    previous, expected, got: input.firstCounter,
    missing: ahead < modulus / 2 ? ahead : null,
    alsoUnreported: state.unreported - 1,
  };
  state.lastEventAt = input.receivedAt;
  state.unreported = 0;
  return report;
}

/** The event text, for an operator who has to decide whether to look at the device or its network. */
export function describeCounterBreak(b: CounterBreak): string {
  const what = b.missing !== null
    ? `${b.missing} message(s) missing (OrderId ${b.previous} was followed by ${b.got})`
    : `the message counter went back from ${b.previous} to ${b.got} (a replayed message, or a restart the gateway did not see)`;
  const more = b.alsoUnreported > 0 ? `; ${b.alsoUnreported} more break(s) since the last such warning` : '';
  return `${what}${more}. The data was stored; check the device's network link if this repeats.`;
}
