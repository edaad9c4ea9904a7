import {
  bigint,
  bigserial,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  unique,
} from "drizzle-orm/pg-core";
import { municipalities } from "./directory";
import { users } from "./users";

export const ROLES = ["deputy", "staff", "lawyer", "admin"] as const;
export type Role = (typeof ROLES)[number];

/**
 * Granted roles. Deputies and staff always belong to a municipality; lawyers and admins work
 * across all of them, so their municipality may be empty.
 */
export const roleGrants = pgTable(
  "role_grants",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    userId: bigint("user_id", { mode: "number" })
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text("role", { enum: ROLES }).notNull(),
    municipalityId: integer("municipality_id").references(() => municipalities.id),
    grantedAt: timestamp("granted_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique("role_grants_uq").on(t.userId, t.role, t.municipalityId).nullsNotDistinct()],
);

/** One-time invite codes. Only a SHA-256 of the code is stored, so a database leak grants nothing. */
export const invites = pgTable("invites", {
  id: bigserial("id", { mode: "number" }).primaryKey(),
  codeHash: text("code_hash").notNull().unique(),
  role: text("role", { enum: ROLES }).notNull(),
  municipalityId: integer("municipality_id").references(() => municipalities.id),
  createdByUserId: bigint("created_by_user_id", { mode: "number" }).references(() => users.id, {
    onDelete: "set null",
  }),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  usedAt: timestamp("used_at", { withTimezone: true }),
  usedByUserId: bigint("used_by_user_id", { mode: "number" }).references(() => users.id, {
    onDelete: "set null",
  }),
});

/** Who did what, when, and in which municipality. Never updated, only appended. */
export const auditLog = pgTable(
  "audit_log",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    actorUserId: bigint("actor_user_id", { mode: "number" }).references(() => users.id, {
      onDelete: "set null",
    }),
    /** "cli" for command-line actions, otherwise the actor's role at the time. */
    actorLabel: text("actor_label").notNull(),
    action: text("action").notNull(),
    municipalityId: integer("municipality_id").references(() => municipalities.id),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("audit_log_created_idx").on(t.createdAt)],
);
