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

  if (!conversation) return;

  // The window's countdown, and the composer's flip when it ends.
  const closes = conversation.dataset.windowCloses ? new Date(conversation.dataset.windowCloses) : null;
  const open = conversation.dataset.windowOpen === "true";
  const countdown = conversation.querySelector("[data-countdown]");
  const span = (ms) => {
    const minutes = Math.floor(ms / 60000);
    const hours = Math.floor(minutes / 60);
    if (hours === 0 && minutes === 0) return "less than a minute";
    if (hours === 0) return `${minutes} min`;
    return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  };

  // Replaces the composer and the details with the server's current ones, keeping unsent text.
  async function refreshComposer() {
    const draft = conversation.querySelector(".reply textarea")?.value ?? "";
    const response = await fetch(location.href, { headers: { Accept: "text/html" } });
    if (!response.ok) return;
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const selector of [".composer", ".details"]) {
      const fresh = page.querySelector(selector);
      const current = document.querySelector(selector);
      if (fresh && current) current.replaceWith(document.adoptNode(fresh));
    }
    const fresh = page.querySelector(".conversation[data-conversation]");
    if (fresh) {
      conversation.dataset.windowOpen = fresh.dataset.windowOpen;
      conversation.dataset.windowCloses = fresh.dataset.windowCloses ?? "";
    }
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
  }

  if (open && closes) {
    const tick = () => {
      const left = closes - Date.now();
      if (left <= 0) {
        refreshComposer();
        return;
      }
      if (countdown) countdown.textContent = `Window closes in ${span(left)}.`;
      setTimeout(tick, Math.min(left, 30000));
    };
    tick();
  }
})();
