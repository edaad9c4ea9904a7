import type { Feature } from "../bot/feature";
import { announcements } from "./announcements";
import { faq } from "./faq";
import { hearings } from "./hearings";
import { help } from "./help";
import { municipalities } from "./municipalities";
import { onboarding } from "./onboarding";
import { polls } from "./polls";
import { privacy } from "./privacy";
import { roles } from "./roles";
import { settings } from "./settings";

/**
 * Every feature, once. The order is the order of their handlers (an invite code in `/start CODE`
 * reaches roles before onboarding's plain /start) and of their lines in /help. Conversations of
 * all features come before any handler, and the FAQ's free text after all of them, whatever
 * the order here.
 */
export const features: readonly Feature[] = [
  municipalities,
  roles,
  onboarding,
  settings,
  announcements,
  hearings,
  polls,
  faq,
  help,
  privacy,
];
