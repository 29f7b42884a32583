// Busy controls, failures told in the card, focus: README "The browser side" (comments there:
// every byte here is in the first load).
(() => {
  const AGAIN = "もう一度お試しください。";
  const FAIL = {
    network: "通信できませんでした。電波の良い場所で、" + AGAIN,
    timeout: "応答がありませんでした。電波の良い場所で、" + AGAIN,
    server: "システムで問題が発生したため、処理できませんでした。しばらく待ってから、" + AGAIN,
    foreign: "サーバーから正しい応答がありませんでした。しばらく待ってから、" + AGAIN,
  };
  const FIELDS = "input:not([type=hidden]),select,textarea";
  const on = (name, fn) => document.addEventListener("htmx:" + name, (e) => fn(e.detail.ctx, e));
  const card = (el) => el.closest("section") || el;
  const set = (el, name, value) => (value ? el.setAttribute(name, value) : el.removeAttribute(name));
  const control = (ctx) => {
    const c = ctx.request.submitter || ctx.sourceElement;
    return c.matches("form") ? c.querySelector("button") : c.matches("button,a") ? c : null;
  };

  function focus(box, el) {
    if (!el.matches(FIELDS + ",a,button")) el.tabIndex = -1;
    el.focus({ preventScroll: true });
    const r = box.getBoundingClientRect(), e = el.getBoundingClientRect(), h = innerHeight;
    const fits = r.height <= h;
    if (fits ? r.top < -1 || r.bottom > h + 1 : e.top < 0 || e.bottom > h)
      (fits ? box : el).scrollIntoView({ block: fits ? "start" : "center" });
  }

  on("config:request", (ctx, e) => card(ctx.sourceElement).hasAttribute("aria-busy") && e.preventDefault());

  on("before:request", (ctx) => {
    const c = control(ctx);
    if (!c) return;
    ctx.busy = c;
    ctx.card = card(c);
    c.classList.add("busy");
    set(c, "aria-disabled", "true");
    set(ctx.card, "aria-busy", "true");
    c.disabled = true;
  });

  on("after:request", (ctx, e) => {
    const id = ctx.response.headers.get("X-Request-ID");
    if (!ctx.hx.redirect && (!id || ctx.response.status >= 500)) {
      e.preventDefault();
      ctx.failure = id ? `${FAIL.server}（お問い合わせ番号：${id}）` : FAIL.foreign;
    }
  });

  on("error", (ctx) => {
    if (ctx && !ctx.failure)
      ctx.failure = ctx.response ? FAIL.server
        : ctx.request.signal.reason === "timeout" ? FAIL.timeout : FAIL.network;
  });

  on("finally:request", (ctx) => {
    const c = ctx.busy;
    if (!c) return;
    c.classList.remove("busy");
    set(c, "aria-disabled");
    set(ctx.card, "aria-busy");
    c.disabled = false;
    if (ctx.failure && c.isConnected) {
      ctx.card.querySelector(".failure")?.remove();
      const p = document.createElement("p");
      p.className = "failure";
      set(p, "role", "alert");
      p.textContent = ctx.failure;
      (c.closest(".actions") || c).before(p);
      focus(ctx.card, c);
    }
  });

  on("before:swap", (ctx, e) => {
    const main = (ctx.main = e.detail.tasks.find((t) => t.type === "main"));
    const next = main?.fragment.firstElementChild;
    if (ctx.busy && next?.querySelector("[role=status]") && next.id === main.target.id) {
      for (const el of [main.target, next]) set(el, "aria-live", "polite");
      main.swapSpec.style = "outerMorph";
    }
  });

  on("after:swap", (ctx) => {
    const box = ctx.main?.target;
    if (!ctx.busy || !box?.isConnected) return;
    const done = box.querySelector("[role=status]");
    let field = !done && [...box.querySelectorAll(FIELDS)].find((f) => !f.disabled && f.offsetParent);
    if (field?.type === "radio") field = box.querySelector(`[name="${field.name}"]:checked`) || field;
    focus(box, box.querySelector("[aria-invalid=true]") || box.querySelector(".errors") || field ||
      box.querySelector("h2,h3") || box);
  });
})();
