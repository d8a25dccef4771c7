// Zhiyuan playground: a Telegram-like chat with the bot, as one of the demo personas.
//
// How it works: the server (bot/playground/server.py) keeps every chat in its simulated
// Telegram. This page asks for what changed with a long poll (GET /api/chat/<persona>?after=N
// waits until something happens in that chat), draws it, and turns clicks into small JSON
// actions (send, press, contact, location). No framework, no build step.
//
// Safety: nothing the bot (or anyone) sends is ever parsed as HTML. Messages arrive as plain
// text plus Telegram "entities" (bold from offset 3, length 5...), and formatting is rebuilt
// from them with createElement/textContent. Links are kept only for safe URL schemes. The
// server's Content-Security-Policy forbids inline scripts as a second line of defence.
//
// The page's own words (buttons, menus, the status line) follow the language of the persona
// shown: the server sends both tables with the persona list (bot/playground/ui.py). Message
// times come from the server already written in the bot's time zone, so a bubble's time agrees
// with the times in the bot's texts whatever zone the browser is in.
"use strict";

const POLL_WAIT_SECONDS = 25;
const RETRY_MAX_MS = 10000;

const state = {
  bot: null,
  personas: new Map(), // key -> persona from /api/personas
  demoLocation: { latitude: 28.1941, longitude: 112.9723 },
  current: null, // key of the persona shown
  // Per persona: what we know of its chat, so switching back shows it at once. The server
  // keeps the conversations anyway; this only saves a reload.
  chats: new Map(),
  poll: null, // { key, controller } of the running long poll
  ui: {}, // language -> { key: text } (the page's own words)
  language: "en", // the table in use: the shown persona's
  maxTextLength: 4096,
};

const $ = (id) => document.getElementById(id);
// The "pick a persona" hint lives inside the message list, which is emptied on every persona
// switch: keep a reference so it can be put back.
let emptyHint = null;

// ------------------------------------------------------------------------------ helpers

// Create an element with a class and children (strings become text nodes, never HTML).
function el(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function chatState(key) {
  let chat = state.chats.get(key);
  if (!chat) {
    chat = {
      seq: 0,
      loaded: false, // whether the first (full) answer has arrived
      messages: new Map(), // message id -> message JSON (insertion order = chat order)
      replyKeyboard: null,
      keyboardHidden: false,
      commands: [],
    };
    state.chats.set(key, chat);
  }
  return chat;
}

// A JSON request. Errors carry the server's message ({"error": ...}) for the toast.
async function api(path, options = {}) {
  const init = { method: options.method || "GET", signal: options.signal, headers: {} };
  if (options.body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.body);
  }
  const response = await fetch(path, init);
  let data = null;
  try {
    data = await response.json();
  } catch (_) {
    data = null;
  }
  if (!response.ok) {
    const message = (data && data.error) || `${response.status} ${response.statusText}`;
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return data;
}

// Sleep that ends early when the poll is aborted (persona switch), so no stray timers remain.
function pause(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

// One of the page's own texts in the shown persona's language, "{name}" filled from values.
function tr(key, values = {}) {
  const table = state.ui[state.language] || state.ui.en || {};
  const text = table[key] !== undefined ? table[key] : key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

// The static parts of the page (index.html marks them with data-ui-*), in the current language.
function applyLanguage(language) {
  state.language = state.ui[language] ? language : "en";
  document.documentElement.lang = state.language === "zh" ? "zh-Hans" : "en";
  for (const node of document.querySelectorAll("[data-ui-text]")) {
    node.textContent = tr(node.dataset.uiText);
  }
  for (const node of document.querySelectorAll("[data-ui-title]")) {
    node.title = tr(node.dataset.uiTitle);
  }
  for (const node of document.querySelectorAll("[data-ui-label]")) {
    node.setAttribute("aria-label", tr(node.dataset.uiLabel));
  }
  for (const node of document.querySelectorAll("[data-ui-placeholder]")) {
    node.placeholder = tr(node.dataset.uiPlaceholder);
  }
  // "Pick a persona above, then send {start}.": the command stays a button inside the sentence.
  const [before, after] = tr("empty").split("{start}");
  $("empty-text").replaceChildren(before || "", $("empty-start"), after || "");
}

// Telegram clients send a text longer than one message allows as several messages, each cut at
// a line break, else at a space, in the second half of the piece; a text without either is cut
// at the limit (never inside a character). The separator at a cut is dropped, as a message's
// surrounding white space is anyway.
function splitText(text, limit) {
  const parts = [];
  let rest = text;
  while (rest.length > limit) {
    const head = rest.slice(0, limit + 1); // a separator just after the limit is a clean cut
    let cut = -1;
    for (const separator of ["\n", " "]) {
      const at = head.lastIndexOf(separator);
      if (at >= limit / 2) {
        cut = at;
        break;
      }
    }
    if (cut >= 0) {
      parts.push(rest.slice(0, cut));
      rest = rest.slice(cut + 1);
    } else {
      cut = limit;
      const code = rest.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut -= 1; // keep a surrogate pair together
      parts.push(rest.slice(0, cut));
      rest = rest.slice(cut);
    }
  }
  parts.push(rest);
  return parts.filter((part) => part.trim());
}

let toastTimer = null;
function toast(text, kind = "info") {
  const box = $("toast");
  box.replaceChildren();
  box.className = `toast ${kind}`;
  box.append(el("span", "toast-text", text));
  if (kind === "alert" || kind === "error") {
    // Alerts stay until dismissed, like Telegram's alert popups.
    const close = el("button", "toast-close", tr("ok"));
    close.type = "button";
    close.addEventListener("click", () => { box.hidden = true; });
    box.append(close);
  }
  box.hidden = false;
  clearTimeout(toastTimer);
  if (kind !== "alert") {
    toastTimer = setTimeout(() => { box.hidden = true; }, kind === "error" ? 6000 : 2500);
  }
}

function setStatus(text, offline = false) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("offline", offline);
}

function personaPath(key, action = "") {
  return `/api/chat/${encodeURIComponent(key)}${action ? "/" + action : ""}`;
}

// ------------------------------------------------------------------------------ formatting

// Only these link targets become clickable: no javascript:, data: and the like.
function safeUrl(url) {
  try {
    const parsed = new URL(url, window.location.href);
    return ["http:", "https:", "mailto:", "tg:"].includes(parsed.protocol) ? parsed.href : null;
  } catch (_) {
    return null;
  }
}

// A t.me link to this bot with ?start=... is a deep link: in Telegram it opens the chat and
// sends "/start <payload>", so here it does the same instead of leaving the page.
function deepLinkPayload(url) {
  if (!state.bot) return null;
  try {
    const parsed = new URL(url);
    const path = parsed.pathname.replace(/^\/+/, "").toLowerCase();
    if (["t.me", "telegram.me"].includes(parsed.hostname) &&
        path === state.bot.username.toLowerCase()) {
      return parsed.searchParams.get("start") || "";
    }
  } catch (_) {
    return null;
  }
  return null;
}

function openUrl(url) {
  const payload = deepLinkPayload(url);
  if (payload !== null) {
    sendText(payload ? `/start ${payload}` : "/start");
    return;
  }
  const safe = safeUrl(url);
  if (safe) window.open(safe, "_blank", "noopener,noreferrer");
  else toast(tr("link_refused"), "error");
}

// Telegram makes "/command" words clickable in messages; so do we (not inside code or links).
const COMMAND_RE = /(^|[\s(])(\/[A-Za-z0-9_]{1,32})(?=$|[\s.,;:!?)，。])/g;

function appendPlain(parent, text, clickableCommands) {
  if (!clickableCommands) {
    parent.append(text);
    return;
  }
  let last = 0;
  for (const match of text.matchAll(COMMAND_RE)) {
    const start = match.index + match[1].length;
    parent.append(text.slice(last, start));
    parent.append(commandLink(match[2]));
    last = start + match[2].length;
  }
  parent.append(text.slice(last));
}

function commandLink(command) {
  const node = el("span", "command", command);
  node.setAttribute("role", "link");
  node.tabIndex = 0;
  node.addEventListener("click", () => sendText(command));
  node.addEventListener("keydown", (event) => {
    if (event.key === "Enter") sendText(command);
  });
  return node;
}

// The element for one entity. Unknown kinds become a plain span (text still shown).
function entityElement(entity, text) {
  switch (entity.type) {
    case "bold": return el("b");
    case "italic": return el("i");
    case "underline": return el("u");
    case "strikethrough": return el("s");
    case "code": return el("code");
    case "pre": {
      const pre = el("pre");
      if (entity.language) pre.dataset.language = entity.language;
      return pre;
    }
    case "blockquote":
    case "expandable_blockquote": return el("blockquote");
    case "spoiler": {
      const span = el("span", "spoiler");
      span.title = tr("reveal");
      span.addEventListener("click", () => span.classList.add("revealed"));
      return span;
    }
    case "text_link":
    case "url": {
      const target = entity.type === "url"
        ? text.slice(entity.offset, entity.offset + entity.length)
        : entity.url;
      const safe = safeUrl(target || "");
      if (!safe) return el("span", "bad-link");
      const link = el("a");
      link.href = safe;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      link.addEventListener("click", (event) => {
        if (deepLinkPayload(safe) !== null) {
          event.preventDefault();
          openUrl(safe);
        }
      });
      return link;
    }
    default: return el("span", `entity-${String(entity.type).replace(/[^a-z_]/g, "")}`);
  }
}

// Draw text[start, end) with the entities inside it into parent. Entities are sorted by
// offset, longest first, so an entity's children are the ones that start before it ends
// (clipped to it: Telegram never sends crossing entities, but we must not break if it did).
// Offsets are UTF-16 code units, which is exactly how JavaScript strings index.
function renderRange(parent, text, start, end, entities, clickable) {
  let pos = start;
  let i = 0;
  while (i < entities.length) {
    const entity = entities[i];
    const from = Math.max(entity.offset, pos);
    const to = Math.min(entity.offset + entity.length, end);
    if (from > pos) appendPlain(parent, text.slice(pos, from), clickable);
    const inner = [];
    let j = i + 1;
    while (j < entities.length && entities[j].offset < to) {
      const child = entities[j];
      const childEnd = Math.min(child.offset + child.length, to);
      if (childEnd > child.offset) inner.push({ ...child, length: childEnd - child.offset });
      j += 1;
    }
    if (to > from) {
      const node = entityElement(entity, text);
      const literal = ["code", "pre", "text_link", "url"].includes(entity.type);
      renderRange(node, text, from, to, inner, clickable && !literal);
      parent.append(node);
      pos = to;
    }
    i = j;
  }
  if (pos < end) appendPlain(parent, text.slice(pos, end), clickable);
}

function formattedText(text, entities) {
  const container = el("div", "text");
  const valid = (entities || [])
    .filter((e) => Number.isInteger(e.offset) && Number.isInteger(e.length) && e.length > 0)
    .filter((e) => e.offset >= 0 && e.offset < text.length)
    .sort((a, b) => a.offset - b.offset || b.length - a.length);
  renderRange(container, text, 0, text.length, valid, true);
  return container;
}

// ------------------------------------------------------------------------------ messages

function formatTime(unix) {
  return new Date(unix * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function renderMessage(message) {
  const row = el("div", `msg ${message.from === "bot" ? "bot" : "user"}`);
  row.dataset.id = String(message.id);
  const bubble = el("div", "bubble");

  if (message.document) {
    const doc = message.document;
    const link = el("a", "document",
      el("span", "document-icon", "📄"),
      el("span", "document-info",
        el("span", "document-name", doc.file_name),
        el("span", "document-size", `${formatSize(doc.size)} · ${tr("download")}`)));
    link.href = doc.url; // our own relative URL, built by the server
    link.download = doc.file_name;
    bubble.append(link);
  }
  if (message.photo) {
    const image = el("img", "photo");
    image.src = message.photo.url; // our own relative URL, built by the server
    image.alt = "";
    bubble.append(image);
  }
  if (message.location) {
    const { latitude, longitude } = message.location;
    bubble.append(el("div", "location",
      "📍 ", el("b", null, tr("location")), ` ${latitude.toFixed(5)}, ${longitude.toFixed(5)}`));
  }
  if (message.contact) {
    const c = message.contact;
    const name = [c.first_name, c.last_name].filter(Boolean).join(" ");
    const phone = String(c.phone_number).replace(/^\+/, ""); // Telegram sends it without "+"
    bubble.append(el("div", "contact", "📱 ", el("b", null, name), ` +${phone}`));
  }
  if (message.text) bubble.append(formattedText(message.text, message.entities));

  const meta = el("div", "meta");
  if (message.edited) meta.append(el("span", "edited", tr("edited")));
  meta.append(el("time", null, message.time || formatTime(message.date)));
  bubble.append(meta);
  row.append(bubble);

  if (message.inline_keyboard) row.append(renderInlineKeyboard(message));
  return row;
}

function renderInlineKeyboard(message) {
  const keyboard = el("div", "inline-keyboard");
  for (const buttons of message.inline_keyboard) {
    const row = el("div", "kb-row");
    for (const button of buttons) {
      const node = el("button", "kb-button", button.text);
      node.type = "button";
      if (button.kind === "callback") {
        node.addEventListener("click", () => pressButton(message.id, button.data, node));
      } else if (button.kind === "url") {
        node.classList.add("url");
        node.title = button.url;
        node.addEventListener("click", () => openUrl(button.url));
      } else {
        node.disabled = true;
        node.title = tr("not_simulated");
      }
      row.append(node);
    }
    keyboard.append(row);
  }
  return keyboard;
}

function isNearBottom() {
  const box = $("messages");
  return box.scrollHeight - box.scrollTop - box.clientHeight < 80;
}

function scrollToBottom() {
  const box = $("messages");
  box.scrollTop = box.scrollHeight;
}

function renderChat(key) {
  const chat = chatState(key);
  const box = $("messages");
  box.replaceChildren();
  for (const message of chat.messages.values()) box.append(renderMessage(message));
  emptyHint.hidden = chat.messages.size > 0;
  box.append(emptyHint);
  renderReplyKeyboard(chat);
  scrollToBottom();
}

// Apply one long-poll answer to the stored chat and, if it is the one shown, to the page.
function applyUpdate(key, data) {
  const chat = chatState(key);
  if (data.reset) {
    chat.messages.clear();
  }
  chat.seq = data.seq;
  chat.loaded = true;
  chat.commands = data.commands || [];
  const previousKeyboard = JSON.stringify(chat.replyKeyboard);
  chat.replyKeyboard = data.reply_keyboard;
  if (JSON.stringify(chat.replyKeyboard) !== previousKeyboard) chat.keyboardHidden = false;

  const visible = key === state.current;
  const box = $("messages");
  const stick = visible && isNearBottom();
  let appended = false;
  if (visible && data.reset) box.querySelectorAll(".msg").forEach((n) => n.remove());

  for (const message of data.messages) {
    const known = chat.messages.has(message.id);
    if (message.deleted) chat.messages.delete(message.id);
    else chat.messages.set(message.id, message);
    if (!visible) continue;
    const existing = box.querySelector(`.msg[data-id="${CSS.escape(String(message.id))}"]`);
    if (message.deleted) {
      if (existing) existing.remove();
    } else if (existing) {
      existing.replaceWith(renderMessage(message)); // an edit: same place, new content
    } else if (!known) {
      box.insertBefore(renderMessage(message), emptyHint);
      appended = true;
    }
  }
  if (!visible) return;
  emptyHint.hidden = chat.messages.size > 0;
  for (const note of data.toasts) toast(note.text, note.alert ? "alert" : "info");
  // A press is "in progress" until the bot reacts; any answer from the server ends it.
  box.querySelectorAll(".kb-button.busy").forEach((n) => n.classList.remove("busy"));
  renderReplyKeyboard(chat);
  if (appended || stick) scrollToBottom();
}

// ------------------------------------------------------------------------------ long poll

function startPolling(key) {
  if (state.poll) state.poll.controller.abort();
  const controller = new AbortController();
  state.poll = { key, controller };
  pollLoop(key, controller.signal);
}

async function pollLoop(key, signal) {
  let failures = 0;
  while (!signal.aborted) {
    const chat = chatState(key);
    // The first call returns the whole chat at once; later ones wait for a change.
    const wait = chat.loaded ? POLL_WAIT_SECONDS : 0;
    try {
      const data = await api(`${personaPath(key)}?after=${chat.seq}&wait=${wait}`, { signal });
      if (signal.aborted) return;
      failures = 0;
      setStatus(tr("chatting_as", { persona: describePersona(state.personas.get(key)) }));
      applyUpdate(key, data);
    } catch (error) {
      if (signal.aborted) return;
      failures += 1;
      setStatus(tr("connection_lost", { error: error.message }), true);
      // Back off so a stopped server is not hammered; reconnects as soon as it answers.
      await pause(Math.min(500 * 2 ** failures, RETRY_MAX_MS), signal);
    }
  }
}

// ------------------------------------------------------------------------------ actions

async function act(action, body) {
  const key = state.current;
  if (!key) return null;
  try {
    return await api(personaPath(key, action), { method: "POST", body });
  } catch (error) {
    toast(error.message, "error");
    return null;
  }
}

async function sendText(text) {
  if (!text.trim()) return false;
  closePopups();
  return (await act("send", { text })) !== null;
}

// What the composer holds, as one message or several (splitText), in order. On a failure the
// part not sent and the rest go back into the box, so nothing typed is lost.
async function sendComposed(text) {
  const parts = splitText(text, state.maxTextLength);
  for (let i = 0; i < parts.length; i += 1) {
    if (!(await sendText(parts[i]))) {
      if (i > 0) toast(tr("rest_not_sent", { error: `${i}/${parts.length}` }), "error");
      return parts.slice(i).join("\n");
    }
  }
  return "";
}

function pressButton(messageId, data, node) {
  node.classList.add("busy");
  act("press", { message_id: messageId, data }).then((result) => {
    if (result === null) node.classList.remove("busy");
  });
}

function shareContact() {
  closePopups();
  act("contact", {});
}

function openLocationPanel() {
  closePopups();
  $("latitude").value = String(state.demoLocation.latitude);
  $("longitude").value = String(state.demoLocation.longitude);
  $("location-panel").hidden = false;
  $("location-send").focus();
}

async function sendLocation(event) {
  event.preventDefault();
  const latitude = Number($("latitude").value);
  const longitude = Number($("longitude").value);
  if (!Number.isFinite(latitude) || !Number.isFinite(longitude)) {
    toast(tr("coordinates_not_numbers"), "error");
    return;
  }
  if ((await act("location", { latitude, longitude })) !== null) {
    $("location-panel").hidden = true;
  }
}

// ------------------------------------------------------------------------------ keyboards

function renderReplyKeyboard(chat) {
  const panel = $("reply-keyboard");
  const keyboard = chat.replyKeyboard;
  $("keyboard-button").hidden = !keyboard;
  panel.replaceChildren();
  if (!keyboard || chat.keyboardHidden) {
    panel.hidden = true;
    $("text").placeholder = tr("placeholder");
    return;
  }
  $("text").placeholder = keyboard.placeholder || tr("placeholder");
  for (const buttons of keyboard.rows) {
    const row = el("div", "kb-row");
    for (const button of buttons) {
      const node = el("button", `kb-button reply ${button.kind}`, button.text);
      node.type = "button";
      if (button.kind === "unsupported") {
        node.disabled = true;
        node.title = tr("not_simulated");
      } else {
        node.addEventListener("click", () => tapReplyButton(chat, button));
      }
      row.append(node);
    }
    panel.append(row);
  }
  panel.hidden = false;
}

// As a Telegram client does: a contact button shares the persona's own number, a location
// button asks for the location, any other button sends its text.
function tapReplyButton(chat, button) {
  if (button.kind === "contact") shareContact();
  else if (button.kind === "location") openLocationPanel();
  else sendText(button.text);
  if (chat.replyKeyboard && chat.replyKeyboard.one_time && button.kind !== "location") {
    chat.keyboardHidden = true;
    renderReplyKeyboard(chat);
  }
}

// ------------------------------------------------------------------------------ popups

function closePopups() {
  $("menu").hidden = true;
}

function showMenu(items) {
  const menu = $("menu");
  menu.replaceChildren();
  for (const item of items) {
    const node = el("button", "menu-item", el("span", "menu-label", item.label));
    if (item.detail) node.append(el("span", "menu-detail", item.detail));
    node.type = "button";
    node.addEventListener("click", () => {
      closePopups();
      item.run();
    });
    menu.append(node);
  }
  menu.hidden = false;
}

function toggleMenu(builder) {
  if (!$("menu").hidden) closePopups();
  else showMenu(builder());
}

function commandItems() {
  const chat = chatState(state.current);
  const commands = chat.commands.length ? chat.commands : [{ command: "start", description: "" }];
  return commands.map((c) => ({
    label: `/${c.command}`,
    detail: c.description,
    run: () => sendText(`/${c.command}`),
  }));
}

function attachItems() {
  return [
    { label: tr("share_contact"), detail: tr("share_contact_detail"), run: shareContact },
    { label: tr("share_location"), detail: tr("share_location_detail"), run: openLocationPanel },
  ];
}

// ------------------------------------------------------------------------------ personas

function describePersona(persona) {
  return persona ? tr("persona", { name: persona.name, role: persona.label }) : "";
}

function selectPersona(key) {
  if (!state.personas.has(key)) return;
  state.current = key;
  $("persona").value = key;
  applyLanguage(state.personas.get(key).ui_language);
  history.replaceState(null, "", `#${encodeURIComponent(key)}`);
  $("location-panel").hidden = true;
  closePopups();
  renderChat(key);
  startPolling(key);
  $("text").focus();
}

async function init() {
  emptyHint = $("empty");
  const info = await api("/api/personas");
  state.bot = info.bot;
  state.demoLocation = info.demo_location;
  state.ui = info.ui || {};
  // No maxlength on the box: a longer text is sent as several messages (splitText).
  state.maxTextLength = info.max_text_length;
  $("bot-name").textContent = info.bot.name;
  const select = $("persona");
  for (const persona of info.personas) {
    state.personas.set(persona.key, persona);
    const option = el("option", null, `${persona.name} — ${persona.label}`);
    option.value = persona.key;
    select.append(option);
  }
  select.addEventListener("change", () => selectPersona(select.value));

  $("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("text");
    const text = input.value;
    if (!text.trim()) return;
    input.value = await sendComposed(text);
    autoGrow();
  });
  // Enter sends, Shift+Enter makes a new line (as in Telegram's desktop clients).
  $("text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("text").addEventListener("input", autoGrow);
  $("commands-button").addEventListener("click", () => toggleMenu(commandItems));
  $("attach-button").addEventListener("click", () => toggleMenu(attachItems));
  $("keyboard-button").addEventListener("click", () => {
    const chat = chatState(state.current);
    chat.keyboardHidden = !chat.keyboardHidden;
    renderReplyKeyboard(chat);
  });
  $("location-panel").addEventListener("submit", sendLocation);
  $("location-cancel").addEventListener("click", () => { $("location-panel").hidden = true; });
  $("empty-start").addEventListener("click", () => sendText("/start"));
  // A click anywhere else closes the command / attach menu.
  document.addEventListener("click", (event) => {
    const inside = event.target.closest("#menu, #commands-button, #attach-button");
    if (!inside) closePopups();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      closePopups();
      $("location-panel").hidden = true;
    }
  });

  const wanted = decodeURIComponent(window.location.hash.slice(1));
  selectPersona(state.personas.has(wanted) ? wanted : info.personas[0].key);
}

// The textarea grows with its content up to a few lines, then scrolls.
function autoGrow() {
  const input = $("text");
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
}

document.addEventListener("DOMContentLoaded", () => {
  init().catch((error) => {
    console.error(error);
    setStatus(`cannot start · 无法启动: ${error.message}`, true);
  });
});
