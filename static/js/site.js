// What htmx leaves to the page (README "The browser side"): the control that sent a request
// shows it is busy and a second tap sends nothing; every failure is told in Japanese inside
// the card, which stays as it was; after a swap, focus goes to the start of the new step (or
// the first invalid field), the card is scrolled into view, and errors and 完了 are announced.
// Without JavaScript none of this runs and the forms post as ordinary pages.
(() => {
  const FAIL = {
    network: "通信できませんでした。電波の良い場所で、もう一度お試しください。",
    timeout: "応答がありませんでした。電波の良い場所で、もう一度お試しください。",
    server: "システムで問題が発生したため、処理できませんでした。しばらく待ってから、もう一度お試しください。",
    foreign: "サーバーから正しい応答がありませんでした。しばらく待ってから、もう一度お試しください。",
  };
  const FIELDS = "input:not([type=hidden]),select,textarea";

  // The tapped button or link (a form sent without one: its default button); not a field
  // whose typing asks for the live checklist.
  const control = (ctx) => {
    const c = ctx.request.submitter || ctx.sourceElement;
    return c.matches("form") ? c.querySelector("button") : c.matches("button,a") ? c : null;
  };
  const card = (el) => el.closest("section") || el;

  function reveal(box, el) {
    const r = box.getBoundingClientRect(), e = el.getBoundingClientRect(), h = innerHeight;
    if (r.height <= h ? r.top < 0 || r.bottom > h : e.top < 0 || e.bottom > h)
      (r.height <= h ? box : el).scrollIntoView({ block: r.height <= h ? "start" : "center" });
  }

  function focus(box, el) {
    if (!el.matches(FIELDS + ",a,button")) el.tabIndex = -1;
    el.focus({ preventScroll: true });
    reveal(box, el);
  }

  // A second request from a card that is still waiting for its answer is not sent.
  document.addEventListener("htmx:config:request", (e) => {
    if (card(e.detail.ctx.sourceElement).getAttribute("aria-busy")) e.preventDefault();
  });

  document.addEventListener("htmx:before:request", (e) => {
    const ctx = e.detail.ctx, c = control(ctx);
    if (!c) return;
    ctx.busy = c;
    ctx.card = card(c); // kept: a swap of a smaller part (#stage) takes the control out of it
    c.classList.add("busy");
    c.setAttribute("aria-disabled", "true");
    if (c.matches("button")) c.disabled = true;
    ctx.card.setAttribute("aria-busy", "true");
  });

  // Only our own answers are swapped in: they carry X-Request-ID (monitoring.py). A 5xx, or
  // a page from something else on the way (a proxy's English 502, a captive portal), leaves
  // the card as it was and says so.
  document.addEventListener("htmx:after:request", (e) => {
    const ctx = e.detail.ctx, status = ctx.response.status;
    const id = ctx.response.headers.get("X-Request-ID");
    if (ctx.hx.redirect) return;
    if (!id || status >= 500) {
      e.preventDefault();
      ctx.failure = id ? `${FAIL.server}（お問い合わせ番号：${id}）` : FAIL.foreign;
    }
  });

  document.addEventListener("htmx:error", (e) => {
    const ctx = e.detail.ctx;
    if (!ctx || ctx.failure) return;
    ctx.failure = ctx.response ? FAIL.server
      : ctx.request.signal.reason === "timeout" ? FAIL.timeout : FAIL.network;
  });

  document.addEventListener("htmx:finally:request", (e) => {
    const ctx = e.detail.ctx, c = ctx.busy;
    if (!c) return;
    c.classList.remove("busy");
    c.removeAttribute("aria-disabled");
    c.disabled = false;
    ctx.card.removeAttribute("aria-busy");
    if (ctx.failure && c.isConnected) {
      const where = c.closest(".actions") || c;
      ctx.card.querySelector(".failure")?.remove();
      const p = document.createElement("p");
      p.className = "failure";
      p.setAttribute("role", "alert"); // inserted: announced at once
      p.textContent = ctx.failure;
      where.before(p);
      focus(ctx.card, c);
    }
  });

  // 完了: the card itself becomes a live region before its content changes (morphed, so it
  // stays the same element), and the 完了 it receives is announced. Errors are announced by
  // their own role=alert (templates/_macros/forms.html), failures by theirs.
  document.addEventListener("htmx:before:swap", (e) => {
    const ctx = e.detail.ctx, main = (ctx.main = e.detail.tasks.find((t) => t.type === "main"));
    const next = main?.fragment.firstElementChild;
    if (ctx.busy && next?.querySelector("[role=status]") && next.id === main.target.id) {
      for (const section of [main.target, next]) section.setAttribute("aria-live", "polite");
      main.swapSpec.style = "outerMorph";
    }
  });

  // Only swaps a tapped control asked for (not the live checklist under a field being typed in).
  document.addEventListener("htmx:after:swap", (e) => {
    const ctx = e.detail.ctx, box = ctx.main?.target;
    if (!ctx.busy || !box?.isConnected) return;
    const done = box.querySelector("[role=status]");
    let field = !done && [...box.querySelectorAll(FIELDS)].find((f) => !f.disabled && f.offsetParent);
    if (field?.type === "radio") field = box.querySelector(`[name="${field.name}"]:checked`) || field;
    focus(box, box.querySelector("[aria-invalid=true]") || box.querySelector(".errors") || field || box.querySelector("h2,h3") || box);
  });
})();
