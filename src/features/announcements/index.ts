import type { Feature } from "../../bot/feature";
import { announcementConversations } from "./conversations";
import { announcementsHandlers } from "./handlers";
import { announcementProgressHooks } from "./progress";

/** Staff announcements: /broadcast, /broadcasts, live progress and the final report. */
export const announcements: Feature = {
  name: "announcements",
  conversations: announcementConversations,
  handlers: announcementsHandlers,
  deliveryHooks: (deps, api) => ({ announcement: announcementProgressHooks(deps.db, api) }),
  help: {
    staff: ["broadcast", "broadcasts"],
    admin: ["broadcast_any", "broadcasts_all"],
  },
  commands: [
    { command: "broadcast", description: "commands.broadcast", roles: ["staff", "admin"] },
    { command: "broadcasts", description: "commands.broadcasts", roles: ["staff", "admin"] },
  ],
};
