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
    form.querySelectorAll("button[type=submit]").forEach((button) => { button.disabled = true; });
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
      swap(page, ".views");
      swap(page, ".rows");
      swap(page, ".more[rel=next]");
      const thread = document.querySelector(".thread");
      if (thread) {
        const atBottom = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 40;
        const fresh = page.querySelector(".thread");
        if (fresh && fresh.innerHTML !== thread.innerHTML) {
          thread.innerHTML = fresh.innerHTML;
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
  const events = new EventSource("/inbox/events");
  events.addEventListener("change", soon);
  events.addEventListener("resync", soon);

  if (!conversation) return;
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
  }

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
