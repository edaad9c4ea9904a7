import { eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { type Channel, users } from "../db/schema";
import type { ChannelAdapter } from "./types";

/**
 * Which adapter serves a (synthetic) chat id. A person's channel never changes, so the answer
 * is cached after one lookup.
 */
export class ChannelDirectory {
  private readonly adapters = new Map<Channel, ChannelAdapter>();
  private readonly channelByChat = new Map<number, Channel>();

  constructor(private readonly db: Database) {}

  register(adapter: ChannelAdapter): void {
    this.adapters.set(adapter.channel, adapter);
  }

  adapter(channel: Channel): ChannelAdapter | undefined {
    return this.adapters.get(channel);
  }

  /** Remembers a chat's channel without a lookup (adapters call this when they create users). */
  remember(chatId: number, channel: Channel): void {
    this.channelByChat.set(chatId, channel);
  }

  /** Forgets a chat whose person deleted their data (its id is never used again). */
  forget(chatId: number): void {
    this.channelByChat.delete(chatId);
  }

  async adapterFor(chatId: number): Promise<ChannelAdapter | undefined> {
    let channel = this.channelByChat.get(chatId);
    if (!channel) {
      const rows = await this.db
        .select({ channel: users.channel })
        .from(users)
        .where(eq(users.chatId, chatId));
      channel = rows[0]?.channel;
      if (!channel) return undefined;
      this.channelByChat.set(chatId, channel);
    }
    return this.adapters.get(channel);
  }
}
