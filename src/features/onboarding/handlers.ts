import { Composer } from "grammy";
import type { AppContext } from "../../bot/context";
import { isCommandMessage } from "../../bot/flows";
import { isOnboarded } from "../../core/people";
import { LANGUAGE, ONBOARDING } from "./conversations";

/**
 * /start (without an invite code), /language, and on WhatsApp any first words. Invite codes are
 * handled by the roles feature.
 */
export function onboardingHandlers(): Composer<AppContext> {
  const composer = new Composer<AppContext>();
  composer.command("start", async (ctx) => {
    await ctx.conversation.exitAll();
    await ctx.conversation.enter(ONBOARDING);
  });
  composer.command("language", async (ctx) => {
    await ctx.conversation.exitAll();
    await ctx.conversation.enter(LANGUAGE);
  });
  // People on WhatsApp write instead of typing /start: whatever someone not yet set up writes,
  // when no flow waits for it (flows see messages first), starts onboarding.
  composer.on("message:text", async (ctx, next) => {
    if (ctx.user.channel !== "whatsapp" || isOnboarded(ctx.user)) return next();
    if (isCommandMessage(ctx.message)) return next();
    await ctx.conversation.enter(ONBOARDING);
  });
  return composer;
}
