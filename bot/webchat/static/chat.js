"use strict";
// First Step web chat. Nothing is kept in the browser beyond this tab: the chat's token
// lives in sessionStorage, which the browser drops with the tab. The last event shown is
// kept in memory: a reload shows the chat again from its start.
(function () {
  var EXIT = document.body.dataset.exit || "https://www.bbc.co.uk/weather";
  var store = window.sessionStorage;
  var $ = function (id) { return document.getElementById(id); };
  var lastEsc = 0;
  var shown = {};
  var last = 0;
  var lang = (navigator.language || "en").slice(0, 16);

  function quickExit() {
    try { store.clear(); } catch (e) { /* nothing kept */ }
    document.body.textContent = "";
    window.location.replace(EXIT);
  }
  $("exit").addEventListener("click", quickExit);
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") { return; }
    var now = Date.now();
    if (now - lastEsc < 1500) { quickExit(); }
    lastEsc = now;
  });

  function clientId() {
    var bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function status(text) { $("status").textContent = text; }
  function api(path, body) {
    var headers = { "Content-Type": "application/json" };
    var token = store.getItem("token");
    if (token) { headers.Authorization = "Bearer " + token; }
    return fetch(path, { method: "POST", headers: headers, body: JSON.stringify(body || {}), credentials: "omit" });
  }
  // A message is sent until the server says it was handled; a retry carries the same id,
  // so the bot handles it once.
  function send(body, tries) {
    body.id = body.id || clientId();
    body.lang = lang;
    tries = tries || 0;
    return api("/api/send", body).then(function (r) {
      if (r.status === 401) { status("This chat has ended. Reload the page to start again."); return; }
      if (r.ok) { status(""); return; }
      return r.json().then(function (j) { throw j; });
    }).catch(function (j) {
      var wait = (j && j.retry_seconds) || Math.min(30, 1 + tries * 2);
      status(j && j.error === "slow" ? "Please slow down a little. Sending again shortly." : "Connection lost. Trying again…");
      return new Promise(function (ok) { setTimeout(ok, wait * 1000); }).then(function () { return send(body, tries + 1); });
    });
  }

  function item(cls, text) {
    var li = document.createElement("li");
    li.className = cls;
    li.textContent = text;
    $("log").appendChild(li);
    li.scrollIntoView({ block: "end" });
    return li;
  }
  function buttons(li, id, rows) {
    var old = li.querySelector(".buttons");
    if (old) { old.remove(); }
    if (!rows || !rows.length) { return; }
    var box = document.createElement("div");
    box.className = "buttons";
    rows.forEach(function (row) {
      row.forEach(function (b) {
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = b.text;
        button.addEventListener("click", function () {
          box.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
          item("me", b.text);
          send({ message: id, data: b.data });
        });
        box.appendChild(button);
      });
    });
    li.appendChild(box);
  }
  // Telegram's "send my number" button: here the person types it, and it is sent as the
  // contact Telegram would send. Only when they press the button.
  function phoneForm(box, label) {
    box.textContent = "";
    var form = document.createElement("form");
    var name = document.createElement("label");
    name.htmlFor = "phone";
    name.textContent = "Your phone number";
    var input = document.createElement("input");
    input.id = "phone";
    input.type = "tel";
    input.autocomplete = "off";
    var go = document.createElement("button");
    go.type = "submit";
    go.textContent = label;
    form.append(name, input, go);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var phone = input.value.trim();
      if (!phone) { return; }
      box.textContent = "";
      item("me", label);
      send({ contact: phone });
    });
    box.appendChild(form);
    input.focus();
  }
  function keyboard(rows) {
    var box = $("keyboard");
    box.textContent = "";
    (rows || []).forEach(function (row) {
      row.forEach(function (word) {
        var button = document.createElement("button");
        button.type = "button";
        if (typeof word === "object") {
          button.textContent = word.text;
          button.addEventListener("click", function () { phoneForm(box, word.text); });
        } else {
          button.textContent = word;
          button.addEventListener("click", function () { item("me", word); send({ text: word }); });
        }
        box.appendChild(button);
      });
    });
  }
  function apply(seq, e) {
    if (e.t === "msg") {
      var li = item("bot", e.text);
      shown[seq] = li;
      buttons(li, seq, e.inline);
      if (e.keyboard) { keyboard(e.keyboard); }
    } else if (e.t === "edit" && shown[e.id]) {
      var target = shown[e.id];
      if (typeof e.text === "string") {
        target.textContent = e.text;
        var mark = document.createElement("span");
        mark.className = "edited";
        mark.textContent = " (edited)";
        target.appendChild(mark);
      }
      buttons(target, e.id, e.inline);
    } else if (e.t === "delete") {
      e.ids.forEach(function (id) { if (shown[id]) { shown[id].remove(); delete shown[id]; } });
    } else if (e.t === "toast") {
      status(e.text);
    }
  }

  // Server-Sent Events over fetch (the token goes in a header, not the address); each
  // event's id is remembered, and a reconnect asks only for what came after it. A stream
  // silent for 25 s (the server writes every 10 s) or a phone going offline is dropped
  // and opened again.
  var stream = null;
  var retry = null;
  function again(ms) {
    clearTimeout(retry);
    retry = setTimeout(listen, ms);
  }
  function drop() {
    if (stream) { stream.abort(); stream = null; }
  }
  function listen() {
    drop();
    var mine = new AbortController();
    stream = mine;
    var quiet = null;
    function watch() {
      clearTimeout(quiet);
      quiet = setTimeout(function () { mine.abort(); }, 25000);
    }
    watch();
    fetch("/api/events", { headers: { Authorization: "Bearer " + store.getItem("token"), "Last-Event-ID": String(last) }, credentials: "omit", signal: mine.signal })
      .then(function (r) {
        if (r.status === 401) { status("This chat has ended. Reload the page to start again."); throw new Error("ended"); }
        if (!r.ok || !r.body) { throw new Error("events"); }
        var reader = r.body.getReader();
        var decoder = new TextDecoder();
        var buffer = "";
        function read() {
          return reader.read().then(function (part) {
            if (part.done) { return; }
            watch();
            buffer += decoder.decode(part.value, { stream: true });
            var blocks = buffer.split("\n\n");
            buffer = blocks.pop();
            blocks.forEach(function (block) {
              var id = null, data = "";
              block.split("\n").forEach(function (line) {
                if (line.indexOf("id: ") === 0) { id = Number(line.slice(4)); }
                if (line.indexOf("data: ") === 0) { data += line.slice(6); }
              });
              if (id !== null && id > last) {
                last = id;
                apply(id, JSON.parse(data));
              }
            });
            return read();
          });
        }
        status("");
        return read();
      })
      .then(function () { if (stream === mine) { again(500); } })
      .catch(function (e) {
        clearTimeout(quiet);
        if (e && e.message === "ended") { return; }
        if (stream === mine || stream === null) { status("Connection lost. Trying again…"); }
        if (stream === mine) { again(1500); }
      });
  }
  window.addEventListener("offline", function () {
    drop();
    status("Connection lost. Trying again…");
    again(1500);
  });
  window.addEventListener("online", function () {
    if (store.getItem("token") && !$("chat").hidden) { again(0); }
  });

  function open() {
    $("welcome").hidden = true;
    $("chat").hidden = false;
    listen();
    $("text").focus();
  }
  function begin(path, body, then) {
    $("welcome-status").textContent = "";
    api(path, body).then(function (r) {
      return r.json().then(function (j) {
        if (r.ok && j.token) { store.setItem("token", j.token); open(); if (then) { then(j); } }
        else if (r.status === 429) { $("welcome-status").textContent = "Lots of people are starting a chat right now. Please try again in a minute."; }
        else { $("welcome-status").textContent = "That did not work. Please check and try again."; }
      });
    }).catch(function () { $("welcome-status").textContent = "No connection. Please try again."; });
  }
  $("start").addEventListener("click", function () {
    var query = new URLSearchParams(window.location.search);
    var from = { office: query.get("office") || "", src: query.get("src") || "" };
    begin("/api/chats", from, function (j) { send({ text: j.start || "/start" }); });
  });
  $("recover").addEventListener("click", function () { begin("/api/recover", { code: $("code").value }); });
  $("compose").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = $("text").value.trim();
    if (!text) { return; }
    $("text").value = "";
    item("me", text);
    send({ text: text });
  });
  $("text").addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("compose").requestSubmit(); }
  });
  $("get-code").addEventListener("click", function () {
    api("/api/recovery-code").then(function (r) { return r.json(); }).then(function (j) {
      if (j.code) { item("note", "Your code to come back to this chat: " + j.code + ". Keep it somewhere private. It works once."); }
    });
  });
  if (store.getItem("token")) { open(); }
}());
