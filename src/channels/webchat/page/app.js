// Aimak web chat page: one vanilla module, no build step, no external assets.
// Every user-facing word comes from the server ("webchat" strings of the person's locale).

const $ = (id) => document.getElementById(id);

const ui = {
  title: $("title"),
  subtitle: $("subtitle"),
  status: $("status"),
  statusText: $("status-text"),
  scroller: $("scroller"),
  transcript: $("transcript"),
  composer: $("composer"),
  input: $("input"),
  send: $("send"),
  sendText: $("send-text"),
  announcer: $("announcer"),
  toast: $("toast"),
  counter: $("counter"),
};

const TIME_ZONE = "Asia/Bishkek";
const PRESS_TIMEOUT_MS = 10_000;
const TOAST_MS = 4_000;
const NEAR_BOTTOM_PX = 96;
/** This many ping intervals without a word from the server means the stream is dead. */
const SILENT_PINGS = 2.5;
const WATCHDOG_EVERY_MS = 2_000;
/** The counter appears when a message gets this close to the limit. */
const COUNTER_FROM = 0.8;

const state = {
  userId: 0,
  locale: "ky",
  strings: {},
  /** The session's anti-forgery token, sent back with every change (X-Aimak-CSRF). */
  csrf: "",
  /** The longest message the server takes (the same on every channel). */
  maxLength: 4096,
  /** When the event stream last said anything (an event or a ping). */
  lastHeard: 0,
  /** How often the server pings (it says so in the session). */
  pingMs: 20_000,
  /** id -> View, in the order the server gave them (ids ascend). */
  messages: new Map(),
  /** message id -> { data, timer } while a button press of that message is pending. */
  pending: new Map(),
  source: null,
  everOnline: false,
  startSent: false,
  sending: false,
  historyLoaded: false,
  /** Ids touched by live events while a history fetch is in flight (they win over the fetch). */
  liveDuringSync: null,
  syncSeq: 0,
  /** A new session being opened because the server forgot the old one (see renewSession). */
  renewing: null,
  retry: 0,
  retryTimer: 0,
  /** The server answers but cannot work (503, 5xx: its database is away): retried until it can. */
  unavailable: false,
  probeTimer: 0,
  probeRetry: 0,
  toastTimer: 0,
  stickToBottom: true,
};

const t = (key) => {
  const value = state.strings[key];
  return typeof value === "string" ? value : "";
};

// ---------------------------------------------------------------------------------------------
// Server calls

class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: { accept: "application/json" } };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (method !== "GET" && state.csrf) init.headers["x-aimak-csrf"] = state.csrf;
  // So that an error the server words itself (503, 500) is in the language shown here.
  if (state.locale) init.headers["x-aimak-locale"] = state.locale;
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(t("offline") || t("error"), 0);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const message = data && typeof data.error === "string" ? data.error : t("error");
    if (isUnavailable(response.status)) markUnavailable();
    throw new ApiError(message, response.status);
  }
  if (state.unavailable) markAvailable();
  return data;
}

/** 503 (the database is away: "your message is kept") and other 5xx: the server will be back. */
const isUnavailable = (status) => status >= 500;

// ---------------------------------------------------------------------------------------------
// The server answers but cannot work for a while: say so (not "connected"), and ask again until
// it can. The history sync is the question: it also brings whatever was missed meanwhile.

function markUnavailable() {
  if (!state.unavailable) {
    state.unavailable = true;
    state.probeRetry = 0;
  }
  setStatus(ui.status.dataset.state);
  probeSoon();
}

function markAvailable() {
  state.unavailable = false;
  clearTimeout(state.probeTimer);
  state.probeTimer = 0;
  const open = state.source && state.source.readyState === EventSource.OPEN;
  setStatus(open ? "online" : ui.status.dataset.state);
}

function probeSoon() {
  if (state.probeTimer) return;
  const delay = Math.min(5_000, 1_000 * 1.5 ** state.probeRetry);
  state.probeRetry += 1;
  state.probeTimer = setTimeout(() => {
    state.probeTimer = 0;
    if (state.unavailable) syncHistory();
  }, delay);
}

// ---------------------------------------------------------------------------------------------
// Session, live events, history

async function startSession() {
  const session = await api("POST", "/chat/session");
  if (state.userId && session.userId !== state.userId) {
    // The server no longer knows the old cookie: a new person, a new transcript.
    for (const id of [...state.pending.keys()]) clearPress(id);
    state.messages.clear();
    ui.transcript.replaceChildren();
    state.startSent = false;
  }
  state.userId = session.userId;
  if (typeof session.csrf === "string") state.csrf = session.csrf;
  if (Number.isSafeInteger(session.maxLength) && session.maxLength > 0) {
    state.maxLength = session.maxLength;
  }
  if (Number.isSafeInteger(session.pingMs) && session.pingMs > 0) state.pingMs = session.pingMs;
  applyLocale(session.locale, session.strings);
  ui.input.disabled = false;
  updateSendButton();
}

/** The server answers 401 when it no longer knows the page's cookie (the person used /forgetme). */
const isForgotten = (error) => error instanceof ApiError && error.status === 401;

/**
 * After a 401 to the session of `staleUserId`: opens a new session (a new person, a cleared
 * transcript) and its event stream; the history sync then says /start, so the person simply
 * sees a fresh start. Several requests failing together share one renewal. Resolves true when
 * the page now runs a session other than the stale one (false: the 401 was not about a forgotten
 * cookie, and the caller shows the error as usual).
 */
async function renewSession(staleUserId) {
  if (state.userId !== staleUserId) return true;
  if (!state.renewing) {
    state.renewing = (async () => {
      try {
        await startSession();
        if (state.userId === staleUserId) return false;
        connect();
        return true;
      } catch {
        setStatus("offline");
        scheduleReconnect();
        return false;
      } finally {
        state.renewing = null;
      }
    })();
  }
  return state.renewing;
}

function connect() {
  if (state.source) state.source.close();
  const source = new EventSource("/chat/events");
  state.source = source;
  state.lastHeard = Date.now();

  source.addEventListener("open", () => {
    heard();
    state.everOnline = true;
    state.retry = 0;
    setStatus("online");
    // Whatever happened while we were away (or before the stream opened) is in the history.
    syncHistory();
  });

  source.addEventListener("error", () => {
    if (source.readyState === EventSource.CLOSED) {
      setStatus("offline");
      scheduleReconnect();
    } else {
      // The browser reconnects the stream by itself.
      setStatus(state.everOnline ? "reconnecting" : "connecting");
    }
  });

  source.addEventListener("ping", heard);

  source.addEventListener("message", (event) => {
    heard();
    const view = parse(event.data);
    if (!view || typeof view.id !== "number") return;
    noteLive(view.id);
    if (view.fromBot) releaseAllPresses();
    upsert(view, { live: true });
  });

  source.addEventListener("delete", (event) => {
    heard();
    const data = parse(event.data);
    if (!data || typeof data.id !== "number") return;
    noteLive(data.id);
    remove(data.id);
  });

  source.addEventListener("notice", (event) => {
    heard();
    const data = parse(event.data);
    releaseAllPresses();
    if (data && typeof data.text === "string" && data.text) showToast(data.text);
  });

  source.addEventListener("locale", (event) => {
    heard();
    const data = parse(event.data);
    if (data?.strings) {
      applyLocale(data.locale, data.strings);
      rerenderAll();
    }
  });
}

function heard() {
  state.lastHeard = Date.now();
}

/**
 * A stream can die without an error event (a proxy or the server dropped it, the laptop slept):
 * the server pings regularly, so a longer silence means reconnect, and the history sync on
 * "open" brings whatever was missed.
 */
function watchStream() {
  const source = state.source;
  if (!source || source.readyState === EventSource.CLOSED) return;
  if (Date.now() - state.lastHeard < state.pingMs * SILENT_PINGS) return;
  source.close();
  setStatus("connecting");
  state.retry = 0;
  scheduleReconnect();
}

setInterval(watchStream, WATCHDOG_EVERY_MS);
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") watchStream();
});

function scheduleReconnect() {
  clearTimeout(state.retryTimer);
  // At most 8 s apart: a server back after an outage is found within seconds, not half a minute.
  const delay = Math.min(8_000, 1_000 * 2 ** state.retry);
  state.retry += 1;
  state.retryTimer = setTimeout(async () => {
    try {
      await startSession();
      connect();
    } catch {
      setStatus("offline");
      scheduleReconnect();
    }
  }, delay);
}

function parse(json) {
  try {
    return JSON.parse(json);
  } catch {
    return null;
  }
}

function noteLive(id) {
  if (state.liveDuringSync) state.liveDuringSync.add(id);
}

async function syncHistory() {
  const seq = ++state.syncSeq;
  state.liveDuringSync = new Set();
  const asUser = state.userId;
  let data;
  try {
    data = await api("GET", "/chat/history");
  } catch (error) {
    if (seq === state.syncSeq) state.liveDuringSync = null;
    if (!state.historyLoaded) ui.scroller.setAttribute("aria-busy", "false");
    // A forgotten session: the renewed one syncs its own history when its stream opens.
    if (isForgotten(error) && (await renewSession(asUser))) return;
    // The status says "reconnecting" and the page keeps asking (probeSoon): no toast each time.
    if (state.unavailable) {
      probeSoon();
      return;
    }
    showToast(error.message, true);
    return;
  }
  if (seq !== state.syncSeq) return;
  const live = state.liveDuringSync;
  state.liveDuringSync = null;

  const messages = Array.isArray(data?.messages) ? data.messages : [];
  const keep = new Set(messages.map((m) => m.id));
  for (const id of [...state.messages.keys()]) {
    if (!keep.has(id) && !live.has(id)) remove(id);
  }
  for (const view of messages) {
    const current = state.messages.get(view.id);
    if (live.has(view.id) && current) continue;
    if (current && current.updatedAt === view.updatedAt) continue;
    upsert(view, { live: false });
  }

  const first = !state.historyLoaded;
  state.historyLoaded = true;
  ui.scroller.setAttribute("aria-busy", "false");
  // What arrived while the page was closed comes back marked unread, once: a divider before
  // the first of them, scrolled into view (the server counts them as seen from now on).
  const unread = messages.filter((m) => m.unread === true && !live.has(m.id));
  if (unread.length > 0) showUnreadDivider(unread);
  else if (first) scrollToBottom();

  if (messages.length === 0 && state.messages.size === 0 && !state.startSent) {
    state.startSent = true;
    sendText("/start");
  }
}

// ---------------------------------------------------------------------------------------------
// Chrome (everything around the messages)

function showUnreadDivider(unread) {
  for (const old of ui.transcript.querySelectorAll("li.unread-divider")) old.remove();
  const firstId = unread[0].id;
  const divider = document.createElement("li");
  divider.className = "unread-divider";
  divider.setAttribute("role", "separator");
  // Sorts just before the first unread message (ids are integers).
  divider.dataset.id = String(firstId - 0.5);
  const label = document.createElement("span");
  label.textContent = `${t("unread")} · ${unread.length}`;
  divider.append(label);
  insertInOrder(divider, firstId - 0.5);
  for (const view of unread) findNode(view.id)?.classList.add("unread");
  announce(divider);
  divider.scrollIntoView({ block: "start" });
  state.stickToBottom = isNearBottom();
}

function applyLocale(locale, strings) {
  if (locale) state.locale = locale;
  if (strings && typeof strings === "object") state.strings = strings;
  document.documentElement.lang = state.locale;
  const title = t("title");
  if (title) {
    document.title = title;
    ui.title.textContent = title;
  }
  ui.subtitle.textContent = t("subtitle");
  ui.subtitle.hidden = !t("subtitle");
  ui.input.placeholder = t("placeholder");
  ui.input.setAttribute("aria-label", t("input_label") || t("placeholder"));
  ui.sendText.textContent = t("send");
  ui.send.title = t("send");
  ui.transcript.setAttribute("aria-label", t("transcript"));
  setStatus(ui.status.dataset.state || "connecting");
  updateCounter();
}

function setStatus(kind) {
  const shown =
    state.unavailable && (kind === "online" || kind === "offline") ? "reconnecting" : kind;
  ui.status.dataset.state = shown;
  ui.statusText.textContent = t(shown) || t(kind);
}

// ---------------------------------------------------------------------------------------------
// Messages

function upsert(view, { live, mine = false }) {
  // Whether the person is following the conversation: true unless they scrolled up to read.
  // Decided by their own scrolling, not by the distance now: several messages arriving together
  // must all come into view.
  const following = state.stickToBottom;
  const previous = state.messages.get(view.id);
  state.messages.set(view.id, view);
  // A fresh rendering of a message ends any pending press on it (the bot has answered).
  clearPress(view.id);
  const node = renderMessage(view);
  const existing = findNode(view.id);

  if (existing) {
    const focus = captureFocus(existing);
    existing.replaceWith(node);
    if (focus) restoreFocus(node, focus);
  } else {
    insertInOrder(node, view.id);
  }

  if (live && view.fromBot) {
    const changed = !previous || previous.text !== view.text;
    if (changed) announce(node);
  }
  if (mine || following) scrollToBottom();
}

function remove(id) {
  state.messages.delete(id);
  clearPress(id);
  const node = findNode(id);
  if (!node) return;
  const hadFocus = node.contains(document.activeElement);
  const neighbour = node.nextElementSibling || node.previousElementSibling;
  node.remove();
  if (hadFocus) {
    if (neighbour) focusMessage(neighbour);
    else ui.input.focus({ preventScroll: true });
  }
}

function rerenderAll() {
  for (const view of state.messages.values()) {
    const existing = findNode(view.id);
    if (!existing) continue;
    const node = renderMessage(view);
    const focus = captureFocus(existing);
    existing.replaceWith(node);
    if (focus) restoreFocus(node, focus);
  }
}

function findNode(id) {
  return ui.transcript.querySelector(`li[data-id="${Number(id)}"]`);
}

function insertInOrder(node, id) {
  let after = ui.transcript.lastElementChild;
  while (after && Number(after.dataset.id) > id) after = after.previousElementSibling;
  if (after) after.after(node);
  else ui.transcript.prepend(node);
}

function renderMessage(view) {
  const li = document.createElement("li");
  li.className = `msg ${view.fromBot ? "bot" : "me"}`;
  if (Array.isArray(view.buttons) && view.buttons.length > 0) li.classList.add("has-keyboard");
  li.dataset.id = String(view.id);
  li.tabIndex = -1;

  const bubble = document.createElement("div");
  bubble.className = "bubble";

  const who = document.createElement("span");
  who.className = "sr-only";
  const sender = view.fromBot ? t("bot_name") || t("title") : t("you");
  who.textContent = sender ? `${sender}: ` : "";
  bubble.append(who);

  if (view.attachment) {
    const attachment = renderAttachment(view.attachment);
    if (attachment) bubble.append(attachment);
  }

  const text = document.createElement("div");
  text.className = "text";
  if (view.format === "html") renderHtml(String(view.text ?? ""), text);
  else text.textContent = String(view.text ?? "");
  if (text.childNodes.length > 0) bubble.append(text);

  const time = renderTime(view.updatedAt);
  if (time) bubble.append(time);
  li.append(bubble);

  if (Array.isArray(view.buttons) && view.buttons.length > 0) {
    li.append(renderKeyboard(view));
  }
  return li;
}

function renderTime(iso) {
  const date = new Date(iso);
  if (!iso || Number.isNaN(date.getTime())) return null;
  const time = document.createElement("time");
  time.className = "meta";
  time.dateTime = date.toISOString();
  time.textContent = formatTime(date);
  return time;
}

function formatTime(date) {
  try {
    return new Intl.DateTimeFormat(state.locale, {
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      timeZone: TIME_ZONE,
    }).format(date);
  } catch {
    return date.toISOString().slice(11, 16);
  }
}

function renderAttachment(attachment) {
  const url = safeUrl(attachment.url, ["http:", "https:"], true);
  const caption = typeof attachment.caption === "string" ? attachment.caption : "";
  if (attachment.kind === "photo" && url) {
    const img = document.createElement("img");
    img.className = "photo";
    img.src = url;
    img.alt = caption || t("photo");
    img.loading = "lazy";
    img.decoding = "async";
    img.addEventListener("load", keepBottom);
    return img;
  }
  if (attachment.kind === "document" && url) {
    const a = document.createElement("a");
    a.className = "document";
    a.href = url;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.textContent = `📄 ${caption || t("document")}`;
    return a;
  }
  return null;
}

function renderKeyboard(view) {
  const keyboard = document.createElement("div");
  keyboard.className = "keyboard";
  keyboard.setAttribute("role", "group");
  const pending = state.pending.get(view.id);

  view.buttons.forEach((row, r) => {
    if (!Array.isArray(row) || row.length === 0) return;
    const line = document.createElement("div");
    line.className = "row";
    row.forEach((button, c) => {
      const label = String(button?.text ?? "");
      const href = safeUrl(button?.url, ["http:", "https:", "tg:"], false);
      let el;
      if (href) {
        el = document.createElement("a");
        el.className = "kb link";
        el.href = href;
        el.target = "_blank";
        el.rel = "noopener noreferrer";
      } else {
        el = document.createElement("button");
        el.type = "button";
        el.className = "kb";
        const data = pressData(button);
        if (data !== undefined) {
          el.dataset.data = data;
        } else {
          el.setAttribute("aria-disabled", "true");
        }
      }
      el.textContent = label;
      el.dataset.pos = `${r}:${c}`;
      if (pending && el.tagName === "BUTTON") {
        el.setAttribute("aria-disabled", "true");
        if (pending.data === pressData(button)) el.setAttribute("aria-busy", "true");
      }
      line.append(el);
    });
    keyboard.append(line);
  });
  return keyboard;
}

/** The callback data of a button ("data" in the page contract; "callbackData" as stored). */
function pressData(button) {
  if (typeof button?.data === "string") return button.data;
  if (typeof button?.callbackData === "string") return button.callbackData;
  return undefined;
}

// Telegram's HTML subset -> safe DOM. The string is parsed in an inert document and only
// whitelisted elements are re-created (without attributes); everything else becomes text.
const ALLOWED = {
  b: "b",
  strong: "strong",
  i: "i",
  em: "em",
  u: "u",
  ins: "u",
  s: "s",
  strike: "s",
  del: "s",
  code: "code",
  pre: "pre",
  blockquote: "blockquote",
};

function renderHtml(html, target) {
  const doc = new DOMParser().parseFromString(`<!doctype html><body>${html}`, "text/html");
  copySafe(doc.body, target);
}

function copySafe(from, to) {
  for (const node of from.childNodes) {
    if (node.nodeType === Node.TEXT_NODE) {
      to.append(node.data);
      continue;
    }
    if (node.nodeType !== Node.ELEMENT_NODE) continue;
    const tag = node.localName;
    let out = null;
    if (Object.hasOwn(ALLOWED, tag)) {
      out = document.createElement(ALLOWED[tag]);
    } else if (tag === "a") {
      const href = safeUrl(node.getAttribute("href"), ["http:", "https:", "tg:"], false);
      if (href) {
        out = document.createElement("a");
        out.href = href;
        out.target = "_blank";
        out.rel = "noopener noreferrer";
      }
    } else if (tag === "tg-spoiler" || (tag === "span" && node.classList.contains("tg-spoiler"))) {
      out = document.createElement("span");
      out.className = "spoiler";
      out.tabIndex = 0;
      out.setAttribute("role", "button");
      out.setAttribute("aria-expanded", "false");
    } else if (tag === "br") {
      to.append("\n");
      continue;
    }
    if (out) {
      copySafe(node, out);
      to.append(out);
    } else {
      copySafe(node, to);
    }
  }
}

function safeUrl(raw, protocols, allowRelative) {
  if (typeof raw !== "string") return null;
  const value = raw.trim();
  if (!value) return null;
  const absolute = /^[a-z][a-z0-9+.-]*:/i.test(value);
  if (!absolute && !(allowRelative && value.startsWith("/") && !value.startsWith("//"))) {
    return null;
  }
  try {
    const url = new URL(value, window.location.href);
    return protocols.includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Button presses

ui.transcript.addEventListener("click", (event) => {
  const target = event.target instanceof Element ? event.target : null;
  const spoiler = target?.closest(".spoiler");
  if (spoiler) {
    revealSpoiler(spoiler);
    return;
  }
  const button = target?.closest("button.kb");
  if (!button) return;
  const li = button.closest("li[data-id]");
  if (!li || button.getAttribute("aria-disabled") === "true") return;
  const data = button.dataset.data;
  if (typeof data === "string") press(Number(li.dataset.id), data);
});

ui.transcript.addEventListener("keydown", (event) => {
  const target = event.target instanceof Element ? event.target : null;
  if (target?.classList.contains("spoiler") && (event.key === "Enter" || event.key === " ")) {
    event.preventDefault();
    revealSpoiler(target);
  }
});

function revealSpoiler(spoiler) {
  spoiler.classList.add("revealed");
  spoiler.removeAttribute("role");
  spoiler.removeAttribute("tabindex");
  spoiler.removeAttribute("aria-expanded");
}

async function press(messageId, data) {
  if (state.pending.has(messageId)) return;
  state.pending.set(messageId, { data, timer: 0, sent: false });
  markPending(messageId);
  const asUser = state.userId;
  try {
    await api("POST", "/chat/press", { messageId, data });
    const entry = state.pending.get(messageId);
    if (entry) {
      // Stay disabled until the bot reacts (an edit, a new message or a notice) or time runs out.
      entry.sent = true;
      entry.timer = setTimeout(() => clearPress(messageId, true), PRESS_TIMEOUT_MS);
    }
  } catch (error) {
    clearPress(messageId, true);
    if (isForgotten(error) && (await renewSession(asUser))) return;
    showToast(error.message, true);
  }
}

function markPending(messageId) {
  const entry = state.pending.get(messageId);
  const node = findNode(messageId);
  if (!entry || !node) return;
  for (const el of node.querySelectorAll("button.kb")) {
    el.setAttribute("aria-disabled", "true");
    if (el.dataset.data === entry.data) el.setAttribute("aria-busy", "true");
  }
}

function clearPress(messageId, restoreButtons = false) {
  const entry = state.pending.get(messageId);
  if (!entry) return;
  clearTimeout(entry.timer);
  state.pending.delete(messageId);
  if (!restoreButtons) return;
  const node = findNode(messageId);
  if (!node) return;
  for (const el of node.querySelectorAll("button.kb")) {
    el.removeAttribute("aria-busy");
    if (typeof el.dataset.data === "string") el.removeAttribute("aria-disabled");
  }
}

function releaseAllPresses() {
  for (const [id, entry] of [...state.pending]) {
    if (entry.sent) clearPress(id, true);
  }
}

// ---------------------------------------------------------------------------------------------
// Focus, scrolling, announcements, toasts

function captureFocus(node) {
  const active = document.activeElement;
  if (!active || !node.contains(active)) return null;
  return { pos: active instanceof HTMLElement ? active.dataset.pos : undefined };
}

function restoreFocus(node, focus) {
  const target =
    (focus.pos && node.querySelector(`.kb[data-pos="${focus.pos}"]`)) || node.querySelector(".kb");
  if (target) target.focus({ preventScroll: true });
  else focusMessage(node);
}

function focusMessage(node) {
  node.focus({ preventScroll: true });
}

function announce(node) {
  const text = node.querySelector(".text")?.textContent?.trim();
  if (!text) return;
  const p = document.createElement("p");
  p.textContent = text;
  ui.announcer.append(p);
  while (ui.announcer.childElementCount > 5) ui.announcer.firstElementChild.remove();
}

function isNearBottom() {
  const s = ui.scroller;
  return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
}

// Instant, not smooth: a smooth scroll still under way when the next message arrives would
// read as "the person scrolled up" and leave that message below the fold.
function scrollToBottom() {
  ui.scroller.scrollTop = ui.scroller.scrollHeight;
  state.stickToBottom = true;
}

function keepBottom() {
  if (state.stickToBottom) scrollToBottom();
}

ui.scroller.addEventListener("scroll", () => {
  state.stickToBottom = isNearBottom();
});

// The on-screen keyboard and window resizes shrink the transcript: keep the newest in view.
new ResizeObserver(keepBottom).observe(ui.scroller);

function showToast(text, isError = false) {
  if (!text) return;
  clearTimeout(state.toastTimer);
  ui.toast.hidden = true;
  ui.toast.textContent = text;
  ui.toast.classList.toggle("error", isError);
  ui.toast.setAttribute("role", isError ? "alert" : "status");
  // Re-show on the next frame so the entrance animation restarts.
  requestAnimationFrame(() => {
    ui.toast.hidden = false;
  });
  state.toastTimer = setTimeout(
    () => {
      ui.toast.hidden = true;
    },
    isError ? TOAST_MS * 1.5 : TOAST_MS,
  );
}

// ---------------------------------------------------------------------------------------------
// Composer

function overLimit() {
  return ui.input.value.trim().length > state.maxLength;
}

function updateSendButton() {
  ui.send.disabled =
    ui.input.disabled || state.sending || ui.input.value.trim() === "" || overLimit();
}

/** Shown near and over the limit: "4 812 / 4 096", and how much to cut when over. */
function updateCounter() {
  const length = ui.input.value.trim().length;
  const near = length >= state.maxLength * COUNTER_FROM;
  ui.counter.hidden = !near;
  if (!near) return;
  const format = (n) => new Intl.NumberFormat(state.locale).format(n);
  const over = length - state.maxLength;
  ui.counter.classList.toggle("over", over > 0);
  ui.counter.textContent =
    over > 0
      ? `${format(length)} / ${format(state.maxLength)} · ${t("over_limit").replace("{{n}}", format(over))}`
      : `${format(length)} / ${format(state.maxLength)}`;
}

function autoGrow() {
  ui.input.style.height = "auto";
  ui.input.style.height = `${ui.input.scrollHeight + 2}px`;
}

ui.input.addEventListener("input", () => {
  autoGrow();
  updateCounter();
  updateSendButton();
});

ui.input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ui.composer.requestSubmit();
  }
});

ui.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = ui.input.value.trim();
  if (!text || state.sending || ui.input.disabled || overLimit()) return;
  sendText(text, true);
});

async function sendText(text, fromComposer = false) {
  state.sending = true;
  if (fromComposer) {
    ui.input.value = "";
    autoGrow();
    updateCounter();
  }
  updateSendButton();
  const asUser = state.userId;
  try {
    const data = await api("POST", "/chat/send", { text });
    if (data?.message) {
      // A history sync already on its way may predate this message: it must not take it away.
      noteLive(data.message.id);
      upsert(data.message, { live: false, mine: true });
    }
  } catch (error) {
    // What the person typed stays in the composer, also across a fresh start below.
    if (fromComposer && ui.input.value === "") {
      ui.input.value = text;
      autoGrow();
      updateCounter();
    }
    if (isForgotten(error) && (await renewSession(asUser))) return;
    // The server is back in a moment: the text stays in the composer, ready to be sent again.
    const away = error instanceof ApiError && (error.status === 0 || isUnavailable(error.status));
    showToast(away ? t("unavailable") || error.message : error.message, true);
  } finally {
    state.sending = false;
    updateSendButton();
  }
}

// ---------------------------------------------------------------------------------------------
// Boot

window.addEventListener("online", () => {
  if (!state.source || state.source.readyState === EventSource.CLOSED) {
    state.retry = 0;
    scheduleReconnect();
  }
});

async function boot() {
  try {
    await startSession();
  } catch {
    setStatus("offline");
    scheduleReconnect();
    return;
  }
  connect();
}

boot();
