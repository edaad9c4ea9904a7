/**
 * Security headers on every answer: the page may run only its own script and styles and talk
 * only to its own origin (Content-Security-Policy, no inline script), nothing is sniffed into
 * another type, no referrer leaves for other sites, and only the municipality sites listed in
 * WEBCHAT_EMBED_ORIGINS may show the web chat in a frame (none by default).
 */
import type { MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";

export function securityHeaders(embedOrigins: readonly string[]): MiddlewareHandler {
  const framedBy = embedOrigins.length > 0 ? [...embedOrigins] : ["'none'"];
  return secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", "data:", "blob:"],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: framedBy,
    },
    // frame-ancestors says who may frame the page; the older header could only say "nobody".
    xFrameOptions: embedOrigins.length > 0 ? false : "DENY",
    referrerPolicy: "strict-origin-when-cross-origin",
    xContentTypeOptions: "nosniff",
  });
}
