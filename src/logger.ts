import { type DestinationStream, type Logger, type LoggerOptions, pino } from "pino";

export type { Logger };

/** Where drizzle's "Failed query: …\nparams: …" message puts the values of a failed query. */
const PARAMS = "\nparams: ";
/** Properties of driver errors that hold values rather than the shape of a query. */
const VALUE_PROPERTIES = ["params", "parameters", "args", "detail"];
/** grammY's BotError carries the whole update context (what the person wrote, who they are). */
const CONTEXT_PROPERTIES = ["ctx"];

/**
 * A copy of `err` (and of its causes) without the values of the query that failed: they may be a
 * web chat cookie's hash (the web chat's channel id), a phone number or what a person wrote.
 * The SQL text stays (drizzle sends values as parameters, never inside it).
 */
function withoutValues(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error) || depth > 5) return err;
  const copy = Object.create(Object.getPrototypeOf(err) as object) as Record<string, unknown>;
  for (const key of Object.getOwnPropertyNames(err)) {
    if (VALUE_PROPERTIES.includes(key) || CONTEXT_PROPERTIES.includes(key)) continue;
    const value = (err as unknown as Record<string, unknown>)[key];
    // Wrapped errors (grammY's BotError.error) get the same treatment.
    copy[key] = value instanceof Error ? withoutValues(value, depth + 1) : value;
  }
  const cut = err.message.indexOf(PARAMS);
  if (cut >= 0) copy.message = `${err.message.slice(0, cut)}${PARAMS}[redacted]`;
  if (typeof err.stack === "string" && err.stack.includes(PARAMS)) {
    copy.stack = err.stack.replace(/\nparams: [\s\S]*?(?=\n {4}at |$)/, `${PARAMS}[redacted]`);
  }
  if (err.cause !== undefined) copy.cause = withoutValues(err.cause, depth + 1);
  return copy;
}

/**
 * JSON logs, one line each, on stdout; anything that could carry a credential is redacted before
 * it is written, and logged errors lose the values of failed queries (withoutValues).
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level,
    base: { app: "aimak" },
    hooks: {
      // logger.error(err): pino takes the message from the error itself, so clean it first.
      logMethod(args, method) {
        if (args[0] instanceof Error) args[0] = withoutValues(args[0]) as Error;
        return method.apply(this, args);
      },
    },
    serializers: {
      err: (err: unknown) => pino.stdSerializers.err(withoutValues(err) as Error),
    },
    redact: {
      paths: [
        "token",
        "*.token",
        "secret",
        "*.secret",
        "botToken",
        "*.botToken",
        "cookie",
        "*.cookie",
        "headers.authorization",
        "headers.cookie",
        "channelId",
        "*.channelId",
      ],
      censor: "[redacted]",
    },
  };
  // Tests read the lines; the app writes them to stdout.
  return destination ? pino(options, destination) : pino(options);
}
