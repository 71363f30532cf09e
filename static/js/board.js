// The order board: live timers, the new-order alert, keyboard shortcuts, and a calm live update.
(() => {
  const board = () => document.getElementById("board-lanes");
  const liveState = document.getElementById("live-state");
  const soundButton = document.getElementById("sound-toggle");
  const rejectDialog = document.getElementById("reject-dialog");
  const reasons = JSON.parse(document.getElementById("platform-reasons")?.textContent || "{}");

  // --- Timers: age of every card, countdown to the platform's accept-by deadline -----------------
  const pad = (n) => String(n).padStart(2, "0");
  const duration = (seconds) => {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return h ? `${h}h ${pad(m)}m` : `${pad(m)}:${pad(s % 60)}`;
  };
  const tick = () => {
    const now = Date.now();
    document.querySelectorAll("[data-age-from]").forEach((el) => {
      const age = (now - Date.parse(el.dataset.ageFrom)) / 1000;
      el.textContent = duration(age);
      el.classList.toggle("late", age > 15 * 60);
    });
    document.querySelectorAll("[data-deadline]").forEach((el) => {
      const left = (Date.parse(el.dataset.deadline) - now) / 1000;
      // The clock icon is an inline SVG beside the text (an emoji shows as a box without an emoji font).
      (el.querySelector(".deadline-text") || el).textContent = left > 0 ? duration(left) : el.dataset.expired;
      el.classList.toggle("urgent", left < 60);
    });
  };
  setInterval(tick, 1000);
  tick();

  // --- The new-order alert: a two-tone chime every few seconds while orders wait -------------------
  let audio = null;
  let soundOn = localStorage.getItem("board-sound") === "on";
  const showSound = () => {
    if (!soundButton) return;
    soundButton.setAttribute("aria-pressed", soundOn ? "true" : "false");
    soundButton.textContent = soundOn ? soundButton.dataset.labelOn : soundButton.dataset.labelOff;
    soundButton.classList.toggle("on", soundOn);
  };
  const chime = () => {
    if (!audio) return;
    [0, 0.22].forEach((offset, i) => {
      const osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = i ? 1320 : 880;
      gain.gain.setValueAtTime(0.0001, audio.currentTime + offset);
      gain.gain.exponentialRampToValueAtTime(0.35, audio.currentTime + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + offset + 0.2);
      osc.connect(gain).connect(audio.destination);
      osc.start(audio.currentTime + offset);
      osc.stop(audio.currentTime + offset + 0.21);
    });
  };
  soundButton?.addEventListener("click", () => {
    // Browsers allow audio only after a click: this click both allows and toggles it.
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    audio.resume();
    soundOn = !soundOn;
    localStorage.setItem("board-sound", soundOn ? "on" : "off");
    showSound();
    if (soundOn) chime();
  });
  if (soundOn) {
    // Remembered "on", but this page load has had no click yet: ask once, gently.
    soundOn = false;
    soundButton?.classList.add("needs-click");
  }
  showSound();
  setInterval(() => {
    const waiting = document.querySelectorAll("#lane-new .order-card").length;
    document.title = (waiting ? `(${waiting}) ` : "") + document.title.replace(/^\(\d+\) /, "");
    if (soundOn && waiting) chime();
  }, 4000);

  // --- Live updates -----------------------------------------------------------------------------
  // Every request from the board says which version it shows, so the answer holds only what changed
  // since (out-of-band swaps of whole lanes). A poll waits while someone is choosing in a card, and a
  // full redraw every few minutes lets finished orders of yesterday leave the Done lane.
  const state = () => document.getElementById("board-state");
  let lastFullRedraw = Date.now();
  document.body.addEventListener("htmx:configRequest", (event) => {
    if (!board()) return;
    event.detail.parameters.since = state()?.dataset.version || "";
    if (event.detail.elt.id === "board-lanes" && Date.now() - lastFullRedraw > 5 * 60 * 1000) {
      event.detail.parameters.force = "1";
      lastFullRedraw = Date.now();
    }
  });
  let focusedId = null;
  document.body.addEventListener("htmx:beforeRequest", (event) => {
    const el = event.detail.elt;
    if (el.id === "board-lanes" && event.detail.requestConfig.verb === "get") {
      const active = document.activeElement;
      if (active && board()?.contains(active) && ["SELECT", "INPUT"].includes(active.tagName)) event.preventDefault();
    }
  });
  const doneOpen = () => sessionStorage.getItem("done-open") === "1";
  document.body.addEventListener("toggle", (event) => {
    if (event.target.id === "lane-done") sessionStorage.setItem("done-open", event.target.open ? "1" : "0");
  }, true);
  document.body.addEventListener("htmx:oobBeforeSwap", () => {
    const active = document.activeElement;
    focusedId = active && active.closest?.(".order-card") ? active.closest(".order-card").id : focusedId;
  });
  document.body.addEventListener("htmx:oobAfterSwap", (event) => {
    const target = event.detail.target;
    if (target?.id === "lane-done") target.open = doneOpen();
    // A swapped lane takes the focused card with it: focus the same order again, wherever it is now.
    const lost = !document.activeElement || document.activeElement === document.body;
    if (focusedId && lost) document.getElementById(focusedId)?.focus();
    tick();
  });
  const done = document.getElementById("lane-done");
  if (done) done.open = doneOpen();
  const setLive = (online) => {
    if (!liveState) return;
    liveState.textContent = online ? liveState.dataset.online : liveState.dataset.offline;
    liveState.classList.toggle("offline", !online);
  };
  document.body.addEventListener("htmx:sendError", () => setLive(false));
  document.body.addEventListener("htmx:responseError", () => setLive(false));
  document.body.addEventListener("htmx:afterRequest", (event) => { if (event.detail.successful) setLive(true); });

  // --- Reject with a reason from the platform's own list ------------------------------------------
  const openReject = (card) => {
    if (!rejectDialog || !card) return false;
    const select = rejectDialog.querySelector("select");
    // Like the order page: no reason is chosen for the person, the first entry asks for one.
    const prompt = new Option(select.dataset.placeholder || "", "", true, true);
    select.replaceChildren(prompt, ...(reasons[card.dataset.platform] || []).map(([code, label]) => new Option(label, code)));
    rejectDialog.querySelector("form").action = card.dataset.rejectUrl;
    rejectDialog.querySelector('[data-fill="number"]').textContent = `#${card.dataset.orderNumber}`;
    rejectDialog.showModal();
    select.focus();
    return true;
  };
  document.addEventListener("click", (event) => {
    const opener = event.target.closest("[data-open-reject]");
    if (opener && openReject(opener.closest(".order-card"))) event.preventDefault();
    if (event.target.closest("[data-close-dialog]")) rejectDialog?.close();
  });
  rejectDialog?.addEventListener("close", () => focusedId && document.getElementById(focusedId)?.focus());

  // --- Compact cards: one switch, remembered on this device --------------------------------------
  const compactButton = document.getElementById("compact-toggle");
  const boardLanes = document.getElementById("board-lanes");
  const showCompact = (on) => {
    boardLanes?.classList.toggle("board-compact", on);
    compactButton?.setAttribute("aria-pressed", on ? "true" : "false");
  };
  showCompact(localStorage.getItem("board-compact") === "on");
  compactButton?.addEventListener("click", () => {
    const on = compactButton.getAttribute("aria-pressed") !== "true";
    localStorage.setItem("board-compact", on ? "on" : "off");
    showCompact(on);
  });

  // --- Phone: lanes as tabs (CSS shows the tab bar only on narrow screens) ------------------------
  const tabs = document.querySelector(".lane-tabs");
  const lanesGrid = document.querySelector(".lanes");
  if (tabs && lanesGrid) {
    tabs.hidden = false;
    document.body.classList.add("has-lane-tabs");
    const choose = (key) => {
      lanesGrid.dataset.tab = key;
      tabs.querySelectorAll("[data-lane-tab]").forEach((tab) =>
        tab.setAttribute("aria-selected", tab.dataset.laneTab === key ? "true" : "false"));
      sessionStorage.setItem("board-tab", key);
    };
    choose(sessionStorage.getItem("board-tab") || "new");
    tabs.addEventListener("click", (event) => {
      const tab = event.target.closest("[data-lane-tab]");
      if (tab) choose(tab.dataset.laneTab);
    });
    // Polls replace lanes out of band: keep each tab's count in step with its lane.
    const syncCounts = () => document.querySelectorAll(".lanes > [data-lane]").forEach((lane) => {
      const count = tabs.querySelector(`[data-tab-count="${lane.dataset.lane}"]`);
      if (count) count.textContent = lane.dataset.count;
    });
    document.body.addEventListener("htmx:afterSettle", syncCounts);
    document.body.addEventListener("htmx:oobAfterSwap", syncCounts);
  }

  // --- Keyboard: a accept, r reject, n next step, Enter opens, arrows move between cards ----------
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const card = document.activeElement?.closest?.(".order-card");
    if (!card || ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName)) return;
    const key = event.key.toLowerCase();
    const press = (selector) => { const button = card.querySelector(selector); if (button) { focusedId = card.id; button.click(); event.preventDefault(); } };
    if (key === "a") press('[data-action="accept"]');
    else if (key === "n") press(".card-actions button[data-action]");
    else if (key === "r") { focusedId = card.id; if (openReject(card)) event.preventDefault(); }
    else if (key === "enter" && document.activeElement === card) { window.location = card.dataset.detailUrl; }
    else if (["arrowdown", "arrowup", "arrowleft", "arrowright"].includes(key)) {
      const cards = [...document.querySelectorAll(".order-card")];
      const step = key === "arrowdown" || key === (document.dir === "rtl" ? "arrowleft" : "arrowright") ? 1 : -1;
      const next = cards[cards.indexOf(card) + step];
      if (next) { next.focus(); event.preventDefault(); }
    }
  });
})();
