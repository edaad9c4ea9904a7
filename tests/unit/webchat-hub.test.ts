import { describe, expect, it } from "vitest";
import { type WebchatEvent, WebchatHub } from "../../src/channels/webchat/hub";

const ping: WebchatEvent = { type: "ping", data: { at: 0 } };

describe("WebchatHub", () => {
  it("keeps a reloaded page's stream when the old stream unsubscribes twice", () => {
    // The old stream ends on abort and again after its keep-alive sleep; the new tab has
    // subscribed in between. The second call must not remove the new tab's listener.
    const hub = new WebchatHub();
    const oldTab: WebchatEvent[] = [];
    const newTab: WebchatEvent[] = [];
    const unsubscribeOld = hub.subscribe(7, (e) => oldTab.push(e));
    unsubscribeOld(); // abort
    const unsubscribeNew = hub.subscribe(7, (e) => newTab.push(e));
    unsubscribeOld(); // the loop's own end, 25 s later
    expect(hub.isConnected(7)).toBe(true);
    expect(hub.connections).toBe(1);
    expect(hub.publish(7, ping)).toBe(1);
    expect(newTab).toEqual([ping]);
    expect(oldTab).toEqual([]);
    unsubscribeNew();
    expect(hub.isConnected(7)).toBe(false);
  });

  it("keeps the new tab when it subscribed before the old one went", () => {
    const hub = new WebchatHub();
    const unsubscribeOld = hub.subscribe(7, () => {});
    hub.subscribe(7, () => {});
    unsubscribeOld();
    unsubscribeOld();
    expect(hub.connections).toBe(1);
  });
});
