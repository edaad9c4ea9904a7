import { type Logger, pino } from "pino";

export type { Logger };

/** JSON logs; anything that could carry a credential is redacted before it is written. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { app: "aimak" },
    redact: {
      paths: [
        "token",
        "*.token",
        "secret",
        "*.secret",
        "botToken",
        "*.botToken",
        "headers.authorization",
      ],
      censor: "[redacted]",
    },
  });
}
