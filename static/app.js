// Switchboard's inbox, enhanced: every page works without this file; with it, Enter sends, a
// form can't be submitted twice while its request is on the way, and the composer follows the
// 24-hour window while the page stays open (the server checks again on every send anyway).
"use strict";

(() => {
  const conversation = document.querySelector(".conversation[data-conversation]");

  // Enter sends, Shift+Enter starts a new line.
  document.addEventListener("keydown", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLTextAreaElement) || !box.form?.classList.contains("reply")) return;
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      if (box.value.trim() !== "") box.form.requestSubmit();
    }
  });

  // One submission per form: the idempotency key makes a second one harmless, this makes it rare.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.method !== "post") return;
    if (form.dataset.submitting) {
      event.preventDefault();
      return;
    }
    form.dataset.submitting = "1";
    // A disabled button is left out of the form's data: carry the one clicked (Preview or
    // Submit, Resolve or Pending…) in a hidden field.
    const submitter = event.submitter;
    if (submitter?.name) {
      const carried = document.createElement("input");
      carried.type = "hidden";
      carried.name = submitter.name;
      carried.value = submitter.value;
      form.append(carried);
    }
    form.querySelectorAll("button[type=submit]").forEach((button) => { button.disabled = true; });
  });

  // Copy buttons (the admin console's callback URL and verify token): shown only where the
  // clipboard can be written; the text stays selectable without them.
  if (navigator.clipboard) {
    document.querySelectorAll("button[data-copy]").forEach((button) => { button.hidden = false; });
    document.addEventListener("click", async (event) => {
      const button = event.target.closest("button[data-copy]");
      const source = button && document.getElementById(button.dataset.copy);
      if (!source) return;
      try {
        await navigator.clipboard.writeText(source.textContent.trim());
        button.textContent = "Copied";
      } catch {
        button.textContent = "Select and copy it";
      }
      setTimeout(() => { button.textContent = "Copy"; }, 2000);
    });
  }

  // Touch screens: a message's reply link and reactions show under the message tapped last, not
  // under every message.
  if (matchMedia("(hover: none)").matches) {
    document.documentElement.classList.add("touch-actions");
    document.addEventListener("click", (event) => {
      if (event.target.closest("a, button, input, textarea, select, summary, audio, video")) return;
      const message = event.target.closest(".message");
      document.querySelectorAll(".message.picked").forEach((other) => {
        if (other !== message) other.classList.remove("picked");
      });
      message?.classList.toggle("picked");
    });
  }

  // An image the media route cannot serve (WhatsApp keeps media for a limited time) reads as a
  // line saying so, not as the browser's broken-image box: those that failed before this script
  // ran, and those that fail later (lazy ones, and threads swapped in by live updates).
  function unavailable(image) {
    const note = document.createElement("p");
    note.className = "message-media-missing";
    note.dataset.testid = "media-missing";
    note.textContent = image.classList.contains("message-sticker") ? "Sticker unavailable" : "Image unavailable";
    image.replaceWith(note);
  }
  const MEDIA_IMAGES = ".message-image, .message-sticker";
  document.addEventListener("error", (event) => {
    if (event.target instanceof HTMLImageElement && event.target.matches(MEDIA_IMAGES)) unavailable(event.target);
  }, true);
  document.querySelectorAll(MEDIA_IMAGES).forEach((image) => {
    if (image.complete && image.naturalWidth === 0) unavailable(image);
  });

  const layout = document.querySelector(".layout[data-csrf]");
  if (!layout) return;

  // Replaces the parts of the page that live updates change with the server's current ones: the
  // list and its counts always; the open thread, keeping the reader's place; the composer and the
  // details only when the window changed, keeping any unsent text.
  let refreshing = null;
  let again = false;
  async function refresh() {
    if (refreshing) {
      again = true;
      return refreshing;
    }
    refreshing = (async () => {
      const response = await fetch(location.href, { headers: { Accept: "text/html" } });
      if (!response.ok) return;
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const before = unreadByRow();
      swap(page, ".views");
      swap(page, ".viewers");
      swap(page, ".list-body");
      notifyNew(before);
      const thread = document.querySelector(".thread");
      if (thread) {
        const atBottom = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 40;
        const fresh = page.querySelector(".thread");
        if (fresh && fresh.innerHTML !== thread.innerHTML) {
          // The message tapped last (touch screens) keeps its actions.
          const picked = thread.querySelector(".message.picked")?.dataset.message;
          thread.innerHTML = fresh.innerHTML;
          if (picked) thread.querySelector(`.message[data-message="${picked}"]`)?.classList.add("picked");
          if (atBottom) thread.scrollTop = thread.scrollHeight;
        }
      }
      const current = document.querySelector(".conversation[data-conversation]");
      const fresh = page.querySelector(".conversation[data-conversation]");
      if (current && fresh && fresh.dataset.windowOpen !== current.dataset.windowOpen) {
        flipComposer(page);
      } else {
        swap(page, ".details");
      }
      updateTitle();
    })();
    try {
      await refreshing;
    } finally {
      refreshing = null;
      if (again) {
        again = false;
        refresh();
      }
    }
  }

  function swap(page, selector) {
    const fresh = page.querySelector(selector);
    const current = document.querySelector(selector);
    if (fresh && current && fresh.innerHTML !== current.innerHTML) {
      current.replaceWith(document.adoptNode(fresh));
    }
  }

  // Browser notifications, opt-in: a new customer message in Mine or Unassigned while the tab is
  // in the background.
  const toggle = document.querySelector(".notify-toggle");
  if (toggle && "Notification" in window && Notification.permission === "default") {
    toggle.hidden = false;
    toggle.addEventListener("click", async () => {
      await Notification.requestPermission();
      toggle.hidden = true;
    });
  }
  function unreadByRow() {
    const counts = new Map();
    document.querySelectorAll(".row[data-watch]").forEach((row) => {
      counts.set(row.dataset.conversation, Number.parseInt(row.dataset.unread || "0", 10) || 0);
    });
    return counts;
  }
  function notifyNew(before) {
    if (!("Notification" in window) || Notification.permission !== "granted" || !document.hidden) return;
    document.querySelectorAll(".row[data-watch]").forEach((row) => {
      const now = Number.parseInt(row.dataset.unread || "0", 10) || 0;
      if (now > (before.get(row.dataset.conversation) ?? 0)) {
        const name = row.querySelector(".name")?.textContent ?? "A customer";
        const snippet = row.querySelector(".snippet")?.textContent ?? "";
        const note = new Notification(name, { body: snippet, tag: `conversation-${row.dataset.conversation}` });
        note.onclick = () => {
          window.focus();
          location.href = row.querySelector("a").href;
        };
      }
    });
  }

  // The tab's title counts the unread conversations the list shows.
  const baseTitle = document.title.replace(/^\(\d+\) /, "");
  function updateTitle() {
    const unread = document.querySelectorAll(".row.unread").length;
    document.title = unread > 0 ? `(${unread}) ${baseTitle}` : baseTitle;
  }
  updateTitle();

  // Live updates: a change refreshes the page's parts (a burst of changes, once).
  let timer = null;
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 150);
  };
  const events = new EventSource(layout.dataset.events);
  events.addEventListener("change", soon);
  events.addEventListener("resync", soon);

  // Keyboard: j/k move in the list, r reply, n note, a assign to me, e resolve, / search,
  // g c closing soon, ? the list of shortcuts. Never while typing.
  const rows = () => [...document.querySelectorAll(".rows .row a")];
  let pendingG = false;
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (event.metaKey || event.ctrlKey || event.altKey) return;
    if (target.closest("input, textarea, select, [contenteditable]")) {
      if (event.key === "Escape") target.blur();
      return;
    }
    const click = (selector) => document.querySelector(selector)?.click();
    const key = event.key;
    if (pendingG) {
      pendingG = false;
      if (key === "c") click('[data-view="closing"]');
      return;
    }
    if (key === "j" || key === "k") {
      const links = rows();
      if (links.length === 0) return;
      const at = links.indexOf(document.activeElement);
      const current = links.findIndex((link) => link.getAttribute("aria-current") === "true");
      const from = at >= 0 ? at : current;
      const next = key === "j" ? Math.min(from + 1, links.length - 1) : Math.max(from - 1, 0);
      links[from < 0 ? 0 : next].focus();
    } else if (key === "r") {
      document.querySelector(".reply textarea")?.focus();
    } else if (key === "n") {
      const note = document.querySelector(".note-composer");
      if (note) {
        note.open = true;
        note.querySelector("textarea")?.focus();
      }
    } else if (key === "a") {
      click('[data-shortcut="a"]');
    } else if (key === "e") {
      click('[data-shortcut="e"]');
    } else if (key === "/") {
      const search = document.querySelector('input[name="q"]');
      if (search) search.focus();
    } else if (key === "g") {
      pendingG = true;
      return;
    } else if (key === "?") {
      document.querySelector("dialog.shortcuts")?.showModal();
    } else {
      return;
    }
    event.preventDefault();
  });

  if (!conversation) return;
  const conversationId = conversation.dataset.conversation;
  const csrf = layout.dataset.csrf;

  // Presence: while the page is open (and visible), tell the server every 20 s.
  const beat = () => {
    if (document.visibilityState !== "visible") return;
    fetch(`/inbox/conversations/${conversationId}/viewing`, {
      method: "POST",
      headers: { "X-CSRF-Token": csrf },
    }).catch(() => {});
  };
  beat();
  setInterval(beat, 20000);
  document.addEventListener("visibilitychange", beat);

  // Reply: quote the message in the composer without leaving the page.
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-reply-to]");
    const cancel = event.target.closest(".cancel-reply");
    const replying = document.querySelector(".replying");
    if (!replying) return;
    if (link) {
      event.preventDefault();
      const message = link.closest(".message");
      const text = message?.querySelector(".message-body")?.textContent.trim() ?? "";
      replying.querySelector('input[name="reply_to"]').value = link.dataset.replyTo;
      replying.querySelector(".replying-quote").textContent = text.length > 120 ? `${text.slice(0, 119)}…` : text;
      replying.hidden = false;
      document.querySelector(".reply textarea")?.focus();
    } else if (cancel) {
      event.preventDefault();
      replying.querySelector('input[name="reply_to"]').value = "";
      replying.hidden = true;
    }
  });

  // Canned responses: "/shortcut" at the start of the reply offers the team's snippets.
  document.addEventListener("input", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLTextAreaElement) || !box.form?.classList.contains("reply")) return;
    const list = box.form.querySelector(".suggestions");
    if (!list) return;
    const typed = /^\/([a-z0-9_-]*)$/.exec(box.value);
    list.replaceChildren();
    if (!typed) {
      list.hidden = true;
      return;
    }
    const snippets = [...document.querySelectorAll(".canned-list li")]
      .filter((item) => item.dataset.shortcut.startsWith(typed[1]))
      .slice(0, 8);
    for (const snippet of snippets) {
      const option = document.createElement("li");
      option.setAttribute("role", "option");
      option.textContent = `/${snippet.dataset.shortcut} — ${snippet.dataset.body}`;
      option.addEventListener("mousedown", (e) => {
        e.preventDefault();
        box.value = snippet.dataset.body;
        list.hidden = true;
        box.focus();
      });
      list.append(option);
    }
    list.hidden = snippets.length === 0;
  });
  document.addEventListener("keydown", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLTextAreaElement) || !box.form?.classList.contains("reply")) return;
    const first = box.form.querySelector(".suggestions:not([hidden]) li");
    if (first && (event.key === "Tab" || event.key === "Enter")) {
      event.preventDefault();
      event.stopImmediatePropagation();
      first.dispatchEvent(new MouseEvent("mousedown"));
    }
  }, true);

  const thread = conversation.querySelector(".thread");
  if (thread) thread.scrollTop = thread.scrollHeight;

  // The window's countdown, and the composer's flip when it ends.
  const span = (ms) => {
    const minutes = Math.floor(ms / 60000);
    const hours = Math.floor(minutes / 60);
    if (hours === 0 && minutes === 0) return "less than a minute";
    if (hours === 0) return `${minutes} min`;
    return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  };

  // Puts the server's composer and details in place (the window opened or closed), keeping the
  // agent's unsent text: back in the box, or shown beside the template form.
  function flipComposer(page) {
    const draft = document.querySelector(".reply textarea")?.value ?? "";
    swap(page, ".composer");
    swap(page, ".details");
    const fresh = page.querySelector(".conversation[data-conversation]");
    conversation.dataset.windowOpen = fresh.dataset.windowOpen;
    conversation.dataset.windowCloses = fresh.dataset.windowCloses ?? "";
    if (draft.trim() !== "") {
      const box = document.querySelector(".reply textarea");
      if (box) {
        box.value = draft;
      } else {
        const kept = document.createElement("details");
        kept.className = "kept-draft";
        kept.open = true;
        const summary = document.createElement("summary");
        summary.textContent = "Your unsent text";
        const text = document.createElement("p");
        text.textContent = draft;
        kept.append(summary, text);
        document.querySelector(".composer .window-note")?.after(kept);
      }
    }
    countdown();
    enhanceComposer();
  }

  // The composer's helpers, delegated so that they survive swaps: how many characters are left
  // near WhatsApp's limit, the template list filtered by name, and the template preview following
  // what is typed.
  function enhanceComposer() {
    document.querySelectorAll(".template-filter").forEach((filter) => (filter.hidden = false));
    const box = document.querySelector(".reply textarea");
    if (box) countCharacters(box);
  }
  function countCharacters(box) {
    const counter = document.getElementById("reply-count");
    if (!counter) return;
    const left = Number(counter.dataset.max) - box.value.length;
    counter.hidden = left > 500;
    counter.textContent = left >= 0 ? `${left} characters left` : `${-left} characters too many`;
  }
  document.addEventListener("input", (event) => {
    const field = event.target;
    if (field.matches(".reply textarea")) {
      countCharacters(field);
    } else if (field.matches(".template-filter")) {
      const words = field.value.toLowerCase().split(/\s+/).filter(Boolean);
      const select = document.getElementById("template");
      for (const option of select ? select.options : []) {
        const name = option.textContent.toLowerCase();
        option.hidden = !words.every((word) => name.includes(word));
      }
    } else if (field.matches(".template-form [data-var]")) {
      const shown = field.value.trim() || field.dataset.fallback;
      document
        .querySelectorAll(`[data-preview="${field.dataset.var}"]`)
        .forEach((mark) => (mark.textContent = shown));
    }
  });
  enhanceComposer();

  let countdownTimer = null;
  function countdown() {
    clearTimeout(countdownTimer);
    const closes = conversation.dataset.windowCloses ? new Date(conversation.dataset.windowCloses) : null;
    if (conversation.dataset.windowOpen !== "true" || !closes) return;
    const tick = () => {
      const left = closes - Date.now();
      if (left <= 0) {
        // Until the server agrees that the window closed (clocks differ by a little).
        refresh();
        countdownTimer = setTimeout(tick, 5000);
        return;
      }
      const note = document.querySelector("[data-countdown]");
      if (note) note.textContent = `Window closes in ${span(left)}.`;
      countdownTimer = setTimeout(tick, Math.min(left, 30000));
    };
    tick();
  }
  countdown();
})();
