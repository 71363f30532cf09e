// The web chat: after a message is sent the box empties and keeps the focus; the conversation stays
// scrolled to its newest message. Enter sends, Shift+Enter starts a new line. The page works without this.
function scrollThread() {
  const thread = document.querySelector("#chat-thread .chat-messages");
  if (thread) thread.lastElementChild?.scrollIntoView({ block: "end" });
}
document.addEventListener("DOMContentLoaded", scrollThread);
document.addEventListener("htmx:afterSwap", scrollThread);
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.detail.elt.closest && event.detail.elt.closest("form.chat-form");
  if (form && event.detail.successful) {
    form.reset();
    form.querySelector("textarea")?.focus();
  }
});
document.addEventListener("keydown", (event) => {
  const box = event.target.closest && event.target.closest("form.chat-form textarea");
  if (box && event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    box.form.requestSubmit();
  }
});
