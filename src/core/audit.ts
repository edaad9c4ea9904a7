import type { Executor } from "../db/client";
import { auditLog } from "../db/schema";

export interface AuditEntry {
  /** The acting user; undefined for the command line. */
  actorUserId?: number | undefined;
  /** "cli", or the role the actor acted in ("staff", "admin", "lawyer"). */
  actorLabel: string;
  /** Dotted verb, e.g. "role.grant", "invite.create", "announcement.send". */
  action: string;
  municipalityId?: number | null | undefined;
  details?: Record<string, unknown>;
}

/** Appends to the audit log. Pass the transaction when the action runs in one. */
export async function recordAudit(db: Executor, entry: AuditEntry): Promise<void> {
  await db.insert(auditLog).values({
    actorUserId: entry.actorUserId ?? null,
    actorLabel: entry.actorLabel,
    action: entry.action,
    municipalityId: entry.municipalityId ?? null,
    details: entry.details ?? {},
  });
}
