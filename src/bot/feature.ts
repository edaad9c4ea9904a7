import type { Api, Composer } from "grammy";
import type { Hono } from "hono";
import type { CliCommand } from "../cli/command";
import type { Executor } from "../db/client";
import type { MessageKind, Role, UserRow } from "../db/schema";
import { type AudienceResolver, registerAudience } from "../delivery";
import type { TFunction } from "../i18n";
import type { Locale } from "../locales";
import type { ProgressHook, Scheduler } from "../scheduler";
import type { AppContext, BotDeps } from "./context";

/** The roles /help and the command menus are written for ("citizen": everyone). */
export type HelpRole = "citizen" | Role;

/** A Telegram command a feature offers, to the roles that may use it. */
export interface FeatureCommand {
  /** Without the slash: "broadcast". */
  command: string;
  /** Locale key of its one-line description in the command menu. */
  description: string;
  /** Who sees it in their menu; everyone when absent. */
  roles?: readonly Role[];
}

/** Called by the scheduler while a message sends (every few seconds) and once when it is done. */
export interface DeliveryHooks {
  onProgress?: ProgressHook;
  onFinished?: ProgressHook;
}

/**
 * One part of what /mydata shows: `data` goes into the JSON document under `key` as it is;
 * `lines` are the readable summary, already in the person's language (HTML).
 */
export interface PersonalDataSection {
  key: string;
  data: unknown;
  lines: string[];
}

/**
 * What a feature keeps about a person, and how it lets go of it. Every feature that stores
 * something about a person (a row with their id, a text they wrote) has one: /mydata collects
 * every feature's sections, and /forgetme calls every feature's `forget` in one transaction
 * before the person's users row is deleted. A test walks every table of the database after
 * /forgetme, so a table added without its rule here fails it.
 */
export interface PersonalDataHolder {
  collect(
    deps: BotDeps,
    person: UserRow,
    t: TFunction,
    locale: Locale,
  ): Promise<PersonalDataSection[]>;
  /**
   * Deletes or anonymises the person's rows, keeping what counts (RSVPs, votes, delivery
   * totals) without them. Returns the rows touched per table (for the audit log's tally).
   */
  forget(tx: Executor, person: UserRow, deps: BotDeps): Promise<Record<string, number>>;
}

/** What the app hands a feature for its periodic jobs and start-up work. */
export interface FeatureRuntime {
  deps: BotDeps;
  scheduler: Scheduler;
  /** Cron expressions replacing the defaults of named jobs (tests run them often). */
  jobSchedules: Record<string, string>;
}

/**
 * Everything a feature contributes, in one object exported from its folder's index.ts and
 * listed once in src/features/index.ts. createBot, createApp, the CLI and /help read that list;
 * nothing else needs to know a feature exists.
 */
export interface Feature {
  readonly name: string;
  /**
   * Its conversations (`createConversation` registrations). Every feature's conversations are
   * installed before any feature's handlers, so a flow that waits gets the person's next
   * message first, whoever else would handle it.
   */
  conversations?(deps: BotDeps): Composer<AppContext>;
  /** Its commands and buttons; installed in the order of the feature list. */
  handlers?(deps: BotDeps): Composer<AppContext>;
  /**
   * Free text that no conversation and no handler took (the FAQ: a question). Installed after
   * every feature's handlers; at most one feature may have it.
   */
  freeText?(deps: BotDeps): Composer<AppContext>;
  /** Start-up work after migrations (seed data on a fresh database). */
  prepare?(deps: BotDeps): Promise<void>;
  /** Registers its periodic jobs on the app's scheduler. */
  jobs?(runtime: FeatureRuntime): void;
  /**
   * What happens as its kinds of outgoing message progress and finish (the sender's live
   * report); `api` is the bot's, so a web chat sender's message is edited on their page.
   */
  deliveryHooks?(deps: BotDeps, api: Api): Partial<Record<MessageKind, DeliveryHooks>>;
  /**
   * The audiences it defines, by kind ("hearing_rsvp_going"): resolved when a message starts,
   * so a message planned today reaches who qualifies when it goes out. Registered at start by
   * the app and the CLI (`registerFeatureAudiences`).
   */
  audiences?: Readonly<Record<string, AudienceResolver>>;
  /** Its public HTTP routes (a hearing's calendar file), mounted on the app's server. */
  routes?(deps: BotDeps): Hono;
  /** `npm run cli -- <name> …` commands. */
  cli?: readonly CliCommand[];
  /** Its lines in /help (locale keys `help.item_*` without the prefix), per role. */
  help?: Partial<Record<HelpRole, readonly string[]>>;
  /** Its Telegram commands, for the command menus. */
  commands?: readonly FeatureCommand[];
  /** What it keeps about a person, for /mydata and /forgetme. */
  personalData?: PersonalDataHolder;
}

/** The one feature whose `freeText` takes what nobody else did; refuses two. */
export function freeTextFeature(features: readonly Feature[]): Feature | undefined {
  const takers = features.filter((f) => f.freeText);
  if (takers.length > 1) {
    throw new Error(`only one feature may take free text: ${takers.map((f) => f.name).join(", ")}`);
  }
  return takers[0];
}

/** Registers every feature's audience kinds with the delivery engine (idempotent). */
export function registerFeatureAudiences(features: readonly Feature[]): void {
  for (const feature of features) {
    for (const [kind, resolve] of Object.entries(feature.audiences ?? {})) {
      registerAudience(kind, resolve);
    }
  }
}
