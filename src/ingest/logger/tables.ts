// GSM/LTE data logger (UxxxxM/UxxxxG) tables. Source: COMET ULoggerJsonDoc.txt (uloggerjsonreceiver.zip),
// spec §5. What COMET has not published is marked, so it can be filled in when known.
import type { MessageKind } from '../../domain/types.ts';

/**
 * Loggers have no MsgType; two flags say why a message was sent. RstOk (first message after start,
 * reset or reconfiguration) outranks IsAsync (e.g. alarm start) because a restart resets the device's
 * counters and interval, which is what the pipeline needs to know first.
 */
export function loggerMessageKind(flags: { RstOk: number; IsAsync: number }): MessageKind {
  if (flags.RstOk === 1) return 'restart';
  if (flags.IsAsync === 1) return 'async';
  return 'periodic';
}

/** The message kinds ranked by the rule above, so a batch reports its most significant one. */
export const LOGGER_KIND_RANK: readonly MessageKind[] = ['restart', 'async', 'periodic'];

/** `Kind` -> model. COMET has not published the logger code table (spec §10.6); unknown codes show as null. */
export const LOGGER_MODELS: Record<number, string> = {};

/**
 * Whether `Time`/`TimeNow` count UTC seconds or local seconds (with `Timezone` as the offset) is not
 * documented (spec §5.5, §10.6). The adapter reads them as UTC first and records the clock skew under
 * both readings (meta.clock); the pipeline then applies the device's setting or, on 'auto', the
 * reading whose send time is nearer the receive time (src/pipeline/logger-clock.ts), and records it.
 */
export const LOGGER_CLOCK_COUNTS: 'utc' | 'local' = 'utc';

/** AState bit 6: external power present, which selects IntervalPowerMode over IntervalBatteryMode. */
export const ASTATE_EXTERNAL_POWER = 1 << 6;
