// What the lower layers need of a logger: winston's Logger satisfies it, tests pass their own.
export type LogMeta = Record<string, unknown>;

export interface LogSink {
  info(message: string, meta?: LogMeta): void;
  warn(message: string, meta?: LogMeta): void;
  error(message: string, meta?: LogMeta): void;
}
