// winston: console for people watching, size-rotated JSON files under <dataDir>/logs for IT.
// Never log entry tokens, passwords or connection strings: callers pass serials and ids.
import winston from 'winston';
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import type { InletConfig } from './config/schema.ts';

export type Logger = winston.Logger;

export function createLogger(config: Pick<InletConfig, 'dataDir' | 'log'>, options: { quiet?: boolean } = {}): Logger {
  const transports: winston.transport[] = [];
  if (config.log.console && !options.quiet) {
    transports.push(new winston.transports.Console({
      format: winston.format.combine(
        winston.format.timestamp(),
        winston.format.printf(({ timestamp, level, message, ...meta }) => {
          const rest = Object.keys(meta).length ? ` ${JSON.stringify(meta)}` : '';
          return `${timestamp} ${level} ${message}${rest}`;
        }),
      ),
    }));
  }
  if (config.log.file) {
    const dir = path.join(config.dataDir, 'logs');
    mkdirSync(dir, { recursive: true });
    transports.push(new winston.transports.File({
      filename: path.join(dir, 'inlet.log'),
      maxsize: config.log.maxSizeMb * 1024 * 1024,
      maxFiles: config.log.maxFiles,
      tailable: true,
      format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    }));
  }
  if (!transports.length) transports.push(new winston.transports.Console({ silent: true }));
  return winston.createLogger({ level: config.log.level, transports });
}

/** Hide the secret part of an ingest path in anything that is logged. */
export function maskEntryPath(url: string): string {
  return url.replace(/^(\/ingest\/[^/]+\/)[^/?#]+/, '$1****');
}
