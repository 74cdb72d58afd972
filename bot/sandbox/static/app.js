// The sandbox page: two pretend phones that drive the emulator's control API.
// Plain JS, no build step, nothing fetched from outside this computer.
"use strict";

const POLL_MS = 600;
const TOAST_MS = 6000;
const NEW_PERSON_BASE = 7_100_000_000;

const KIND_LABELS = {
  location: "📍 Shared a location",
  contact: "📇 Shared a contact",
  photo: "🖼️ A photo",
  sticker: "A sticker",
  voice: "🎤 A voice message",
  video: "🎬 A video",
  document: "📄 A file",
  animation: "A GIF",
  video_note: "A video message",
  audio: "🎵 Audio",
};

class ApiError extends Error {}

// GET when there is no body, POST JSON otherwise; resolves to the "result" field.
async function api(path, body) {
  const options = body === undefined
    ? { method: "GET", cache: "no-store" }
    : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  let response;
  try {
    response = await fetch(`/_emulator/${path}`, options);
  } catch (error) {
    setOffline();
    throw new ApiError("The sandbox is not answering.");
  }
  if (!document.getElementById("offline").hidden) {
    // Back after a restart: the sandbox began again with nothing, so the page does too.
    // This page draws nothing more (an answer drawn now would show the new sandbox's
    // state in the old page for a moment): its callers wait until the reload replaces it.
    startOver();
    return new Promise(() => {});
  }
  const payload = await response.json().catch(() => ({ ok: false, description: response.statusText }));
  if (!payload.ok) throw new ApiError(payload.description || "Something went wrong.");
  return payload.result;
}

function setOffline() {
  document.getElementById("offline").hidden = false;
}

let startingOver = false;

function startOver() {
  if (startingOver) return;
  startingOver = true;
  window.location.reload();
}

function element(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

// Text with web addresses turned into links; never parsed as HTML.
function linkified(text) {
  const fragment = document.createDocumentFragment();
  const pattern = /https?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]']/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    fragment.append(text.slice(last, match.index));
    fragment.append(element("a", { href: match[0], target: "_blank", rel: "noopener noreferrer" }, match[0]));
    last = match.index + match[0].length;
  }
  fragment.append(text.slice(last));
  return fragment;
}

function clock(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
}

class Pane {
  constructor(root, picker, { canReply = () => false } = {}) {
    this.root = root;
    this.picker = picker;
    this.canReply = canReply;
    this.log = root.querySelector('[data-role="log"]');
    this.keyboard = root.querySelector('[data-role="keyboard"]');
    this.status = root.querySelector('[data-role="status"]');
    this.who = root.querySelector('[data-role="who"]');
    this.input = root.querySelector('input[name="text"]');
    this.replying = root.querySelector('[data-role="replying"]');
    this.replyingTo = root.querySelector('[data-role="replying-to"]');
    this.replyTo = null;
    this.textById = new Map();
    this.userId = null;
    this.nodes = new Map();
    this.placeholder = element("li", { className: "empty" }, "No messages yet.");
    this.seen = "";
    this.seenKeyboard = "";
    this.toastTimer = null;
    root.querySelector('[data-role="cancel-reply"]').addEventListener("click", () => {
      this.setReply(null);
      this.input.focus();
    });
    root.querySelector('[data-role="composer"]').addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendTyped();
    });
    root.querySelector('[data-role="share-location"]').addEventListener("click", async () => {
      const place = await this.picker.choose();
      if (place) this.act(() => api("location", { user_id: this.userId, lat: place.lat, lon: place.lon }));
    });
  }

  setUser(userId, description) {
    this.userId = userId;
    this.root.dataset.userId = String(userId);
    this.who.textContent = description;
    this.seen = "";
    this.seenKeyboard = "";
    this.nodes.clear();
    this.textById.clear();
    this.setReply(null);
    this.log.replaceChildren();
    this.keyboard.replaceChildren();
  }

  say(text) {
    this.status.textContent = text;
    clearTimeout(this.toastTimer);
    if (text) this.toastTimer = setTimeout(() => { this.status.textContent = ""; }, TOAST_MS);
  }

  async act(action) {
    try {
      return await action();
    } catch (error) {
      this.say(error instanceof ApiError ? error.message : "Something went wrong.");
      return null;
    } finally {
      this.refresh();
    }
  }

  // Telegram's "reply": the next message is sent as an answer to this one.
  setReply(message) {
    this.replyTo = message ? message.message_id : null;
    this.replying.hidden = message === null;
    this.replyingTo.textContent = message ? message.text : "";
  }

  async sendTyped() {
    const text = this.input.value;
    if (!text.trim()) {
      this.say("Type a message first.");
      return;
    }
    const body = { user_id: this.userId, text };
    if (this.replyTo !== null) body.reply_to_message_id = this.replyTo;
    const sent = await this.act(() => api("send", body));
    if (sent) {
      this.input.value = "";
      this.setReply(null);
    }
    this.input.focus();
  }

  async press(messageId, data) {
    const pressed = await this.act(() => api("press", { user_id: this.userId, message_id: messageId, data }));
    if (pressed && pressed.callback_query_id) this.showAnswer(pressed.callback_query_id);
  }

  async tap(button) {
    let place = null;
    if (button.request_location) {
      place = await this.picker.choose();
      if (!place) return;
    }
    const body = { user_id: this.userId, text: button.text };
    if (place) Object.assign(body, { lat: place.lat, lon: place.lon });
    await this.act(() => api("tap", body));
  }

  // A button's small pop-up answer ("toast"), shown in the status line.
  async showAnswer(queryId) {
    for (let attempt = 0; attempt < 10; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      let calls;
      try {
        calls = await api("calls?method=answerCallbackQuery");
      } catch {
        return;
      }
      const answer = calls.find((call) => String(call.params.callback_query_id) === queryId);
      if (answer) {
        if (answer.params.text) this.say(answer.params.text);
        return;
      }
    }
  }

  async refresh() {
    if (this.userId === null) return;
    const userId = this.userId;
    let messages;
    let keyboard;
    try {
      [messages, keyboard] = await Promise.all([
        api(`chats/${userId}`),
        api(`keyboards/${userId}`),
      ]);
    } catch {
      return;
    }
    if (userId !== this.userId) return;
    const visible = messages.filter((message) => !message.deleted);
    const snapshot = JSON.stringify(visible);
    if (snapshot !== this.seen) {
      this.seen = snapshot;
      this.renderLog(visible);
    }
    const keyboardSnapshot = JSON.stringify([keyboard, visible.length === 0]);
    if (keyboardSnapshot !== this.seenKeyboard) {
      this.seenKeyboard = keyboardSnapshot;
      this.renderKeyboard(keyboard, visible.length === 0);
    }
  }

  // Bring the chat up to date, touching only messages that are new, changed or gone, so
  // screen readers announce just what is new and focus stays where it was.
  renderLog(messages) {
    const active = document.activeElement;
    const focusKey = active && this.log.contains(active) ? active.dataset.focusKey : undefined;
    const atBottom = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 80;
    const wanted = new Set(messages.map((message) => message.message_id));
    this.textById = new Map(messages.map((message) => [message.message_id, message.text || ""]));
    for (const [id, entry] of this.nodes) {
      if (!wanted.has(id)) {
        entry.node.remove();
        this.nodes.delete(id);
      }
    }
    if (messages.length > 0) this.placeholder.remove();
    else if (!this.placeholder.isConnected) this.log.append(this.placeholder);
    let previous = null;
    for (const message of messages) {
      const key = JSON.stringify(message);
      let entry = this.nodes.get(message.message_id);
      if (!entry || entry.key !== key) {
        const node = this.renderMessage(message);
        if (entry) entry.node.replaceWith(node);
        entry = { key, node };
        this.nodes.set(message.message_id, entry);
      }
      const expected = previous ? previous.nextSibling : this.log.firstChild;
      if (entry.node !== expected) this.log.insertBefore(entry.node, expected);
      previous = entry.node;
    }
    if (focusKey && !active.isConnected) {
      const again = this.log.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`);
      (again || this.log).focus();
    }
    if (atBottom) this.log.scrollTop = this.log.scrollHeight;
  }

  renderMessage(message) {
    const fromBot = message.from_bot;
    let text = message.text ?? KIND_LABELS[message.kind] ?? `A ${message.kind} message`;
    const where = message.raw && message.raw.location;
    if (message.kind === "location" && where) {
      text = `${text} (${where.latitude.toFixed(3)}, ${where.longitude.toFixed(3)})`;
    }
    const meta = element("span", { className: "meta" },
      element("span", {}, `${fromBot ? "Bot" : "You"} · ${clock(message.date)}`));
    if (message.edit_count > 0) meta.append(element("span", { className: "edited" }, "edited"));
    if (message.protect_content) {
      meta.append(element("span", {
        className: "badge",
        title: "Sent with protect_content: Telegram blocks forwarding and saving it.",
      }, "Protected"));
    }
    if (fromBot && message.kind === "text" && this.canReply(message)) {
      const reply = element("button", {
        type: "button",
        className: "quiet",
        "aria-label": "Reply to this message",
        dataset: { focusKey: `${message.message_id}:reply` },
      }, "Reply");
      reply.addEventListener("click", () => {
        this.setReply(message);
        this.input.focus();
      });
      meta.append(reply);
    }
    const bubble = element("div", { className: "bubble" });
    if (message.reply_to_message_id) {
      const quoted = this.textById.get(message.reply_to_message_id);
      bubble.append(element("span", { className: "quote" },
        quoted ? `↪ ${quoted}` : "↪ a message that is gone"));
    }
    bubble.append(linkified(text));
    const item = element("li", {
      className: `message ${fromBot ? "from-bot" : "from-me"}`,
      dataset: { messageId: String(message.message_id) },
    }, bubble, meta);
    const markup = message.reply_markup;
    if (fromBot && markup && Array.isArray(markup.inline_keyboard)) {
      item.append(this.renderInline(message.message_id, markup.inline_keyboard));
    }
    return item;
  }

  renderInline(messageId, rows) {
    const keyboard = element("div", { className: "inline-keyboard", role: "group", "aria-label": "Buttons" });
    rows.forEach((row, rowIndex) => {
      const line = element("div", { className: "keyboard-row" });
      row.forEach((button, index) => {
        const focusKey = `${messageId}:${rowIndex}:${index}`;
        if (typeof button.callback_data === "string") {
          const node = element("button", { type: "button", dataset: { focusKey } }, button.text);
          node.addEventListener("click", () => this.press(messageId, button.callback_data));
          line.append(node);
        } else if (typeof button.url === "string") {
          line.append(element("a", {
            className: "link-button", href: button.url, target: "_blank", rel: "noopener noreferrer",
            dataset: { focusKey },
          }, `${button.text} ↗`));
        } else {
          line.append(element("button", { type: "button", disabled: true }, button.text));
        }
      });
      keyboard.append(line);
    });
    return keyboard;
  }

  // The reply keyboard under the text box; before the first message, Telegram's Start.
  renderKeyboard(rows, empty) {
    const focused = document.activeElement && this.keyboard.contains(document.activeElement)
      ? document.activeElement.textContent : undefined;
    const lines = rows.map((row) => {
      const line = element("div", { className: "keyboard-row" });
      for (const button of row) {
        const node = element("button", { type: "button" }, button.text);
        if (button.request_location) node.setAttribute("aria-haspopup", "dialog");
        node.addEventListener("click", () => this.tap(button));
        line.append(node);
      }
      return line;
    });
    if (empty && rows.length === 0) {
      const start = element("button", { type: "button", className: "start" }, "Start");
      start.addEventListener("click", () => this.act(() => api("send", { user_id: this.userId, text: "/start" })));
      lines.push(element("div", { className: "keyboard-row" }, start));
    }
    this.keyboard.replaceChildren(...lines);
    if (focused !== undefined) {
      const again = [...this.keyboard.querySelectorAll("button")].find((node) => node.textContent === focused);
      (again || this.input).focus();
    }
  }
}

// The "share a location" picker: a modal dialog offering the pilot towns.
class LocationPicker {
  constructor(dialog, towns) {
    this.dialog = dialog;
    this.towns = towns;
    const select = dialog.querySelector("select");
    const areas = new Map();
    towns.forEach((town, index) => {
      if (!areas.has(town.area)) areas.set(town.area, element("optgroup", { label: town.area }));
      areas.get(town.area).append(element("option", { value: String(index) }, town.name));
    });
    select.replaceChildren(...[...areas.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, group]) => group));
    this.select = select;
  }

  choose() {
    return new Promise((resolve) => {
      const opener = document.activeElement;
      this.dialog.returnValue = "";
      this.dialog.addEventListener("close", () => {
        const chosen = this.dialog.returnValue === "share" ? this.towns[Number(this.select.value)] : null;
        if (opener && opener.isConnected) opener.focus();
        resolve(chosen || null);
      }, { once: true });
      this.dialog.showModal();
      this.select.focus();
    });
  }
}

async function poll(panes) {
  for (;;) {
    await Promise.all(panes.map((pane) => pane.refresh()));
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function main() {
  const response = await fetch("sandbox.json", { cache: "no-store" });
  const config = await response.json();
  const picker = new LocationPicker(document.getElementById("location-picker"), config.towns);
  const person = new Pane(document.getElementById("person"), picker);
  // Mentors answer a person by replying to their relayed message (or the card), as the
  // bot tells them; those messages carry the request's reference.
  const reference = /\bR-[A-Z0-9]{6}\b/;
  const mentor = new Pane(document.getElementById("mentor"), picker, {
    canReply: (message) => reference.test(message.text || ""),
  });

  if (config.webchat_url) {
    document.getElementById("webchat-link").href = config.webchat_url;
    document.getElementById("webchat").hidden = false;
  }
  const describePerson = (userId) => `${config.person.first_name}, Telegram user ${userId}.`;
  const savedPerson = Number(sessionStorage.getItem("firststep.sandbox.person"));
  const personId = savedPerson > 0 ? savedPerson : config.person.user_id;
  if (personId !== config.person.user_id) {
    await api("users", { user_id: personId, first_name: config.person.first_name }).catch(() => null);
  }
  person.setUser(personId, describePerson(personId));
  mentor.setUser(config.mentor.user_id,
    `${config.mentor.first_name}, peer mentor at ${config.office}.`);

  document.getElementById("new-person").addEventListener("click", async () => {
    const userId = NEW_PERSON_BASE + Math.floor(Math.random() * 800_000_000);
    const made = await person.act(() => api("users", { user_id: userId, first_name: config.person.first_name }));
    if (!made) return;
    sessionStorage.setItem("firststep.sandbox.person", String(userId));
    person.setUser(userId, describePerson(userId));
    person.say("A new person. The bot has never met them.");
    person.refresh();
    person.input.focus();
  });

  poll([person, mentor]);
}

main().catch(() => setOffline());
