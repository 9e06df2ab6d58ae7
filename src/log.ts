// Structured JSON logs (pino) on stderr, or appended to a file, so stdout
// stays for the ready line.
// Requests are sampled; errors always log at warn, rate-limited so a client
// hammering bad requests cannot turn the log into the bottleneck.
import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

/** `file`: append there (its directory created); undefined = stderr. */
export function createLogger(level: LogLevel, base: Record<string, unknown> = {}, file?: string): Logger {
  // sync: a crash handler's last line must reach the file before process.exit.
  const dest = file === undefined ? pino.destination({ fd: 2, sync: true }) : pino.destination({ dest: file, sync: true, append: true, mkdir: true });
  return pino({ level, base: { pid: process.pid, ...base }, timestamp: pino.stdTimeFunctions.isoTime }, dest);
}

/** Decides which requests are logged: a sample of successes, errors up to a rate. */
export class RequestLogSampler {
  private windowStart = 0;
  private inWindow = 0;
  private suppressed = 0;

  constructor(
    private readonly sampleRate: number,
    private readonly maxErrorsPerSecond = 100,
  ) {}

  /** True for about `sampleRate` of the calls. */
  sampleOk(): boolean {
    return this.sampleRate > 0 && Math.random() < this.sampleRate;
  }

  /** Undefined when this error line is suppressed, else how many were suppressed before it. */
  admitError(now = Date.now()): number | undefined {
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    if (this.inWindow >= this.maxErrorsPerSecond) {
      this.suppressed++;
      return undefined;
    }
    this.inWindow++;
    const s = this.suppressed;
    this.suppressed = 0;
    return s;
  }
}
