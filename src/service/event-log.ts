// The application's own start, stop and errors in the Windows Application event log, source "Inlet", where IT's
// monitoring looks (the wrapper only logs its own start/stop lines there).
//
// Written through eventcreate.exe (in every Windows since XP): no native module, and it needs no rights beyond
// the event source the MSI registers (HKLM\...\EventLog\Application\Inlet with CustomSource=1, which is what
// eventcreate requires of a source it did not create itself). Writes are asynchronous and bounded: at most
// BURST entries per minute, then one "N more suppressed" entry, so an error storm cannot become a process storm.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import winston from 'winston';

export const EVENT_SOURCE = 'Inlet';
export type EventType = 'ERROR' | 'WARNING' | 'INFORMATION';
/** Event IDs (eventcreate allows 1-1000): one per kind, so IT can filter on them. */
export const EVENT_IDS = { started: 100, stopped: 101, error: 200, warning: 300 } as const;
const BURST = 20;
const MAX_TEXT = 2000;

/** eventcreate's command line for one entry. */
export function eventCreateArgs(type: EventType, id: number, message: string): string[] {
  if (!Number.isInteger(id) || id < 1 || id > 1000) throw new Error(`event id ${id} is outside 1-1000`);
  // eventcreate's own parser treats a double quote as the end of the text.
  const text = message.replace(/"/g, "'").replace(/\s+/g, ' ').trim().slice(0, MAX_TEXT) || '(no message)';
  return ['/L', 'APPLICATION', '/SO', EVENT_SOURCE, '/T', type, '/ID', String(id), '/D', text];
}

export interface EventLogWriter {
  write(type: EventType, id: number, message: string): void;
}

/** Limits entries to `burst` a minute; `emit` does the writing (eventcreate on Windows, a test's array elsewhere). */
export function boundedEventLog(emit: (args: string[]) => void, burst = BURST, now = Date.now): EventLogWriter {
  let windowStart = now();
  let written = 0;
  let suppressed = 0;
  return {
    write(type, id, message) {
      if (now() - windowStart >= 60_000) {
        if (suppressed > 0) emit(eventCreateArgs('WARNING', EVENT_IDS.warning, `${suppressed} more Inlet log entries were not written to the event log in the last minute; see the log files under the data folder's logs\\`));
        windowStart = now();
        written = 0;
        suppressed = 0;
      }
      if (written >= burst) { suppressed++; return; }
      written++;
      emit(eventCreateArgs(type, id, message));
    },
  };
}

/** The writer for this Windows machine. */
export function windowsEventLog(): EventLogWriter {
  const exe = path.join(process.env.SystemRoot ?? 'C:\\Windows', 'System32', 'eventcreate.exe');
  return boundedEventLog((args) => {
    const child = spawn(exe, args, { stdio: 'ignore', windowsHide: true });
    child.on('error', () => { /* no event log: the log files still have it */ });
    child.unref();
  });
}

/** A winston transport: warnings and errors of the application go to the event log as well. */
export function eventLogTransport(writer: EventLogWriter): winston.transport {
  const stream = new Writable({
    objectMode: true,
    write(info: { level: string; message: unknown; [key: string]: unknown }, _encoding, callback) {
      const { level, message, timestamp: _t, ...meta } = info;
      const details = Object.keys(meta).length ? ` ${JSON.stringify(meta)}` : '';
      writer.write(level === 'error' ? 'ERROR' : 'WARNING', level === 'error' ? EVENT_IDS.error : EVENT_IDS.warning, `${String(message)}${details}`);
      callback();
    },
  });
  return new winston.transports.Stream({ stream, level: 'warn' });
}
