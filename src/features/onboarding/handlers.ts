import { Composer } from "grammy";
import type { AppContext } from "../../bot/context";
import { LANGUAGE, ONBOARDING } from "./conversations";

/** /start (without an invite code) and /language. Invite codes are handled by the roles feature. */
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
  return composer;
}
