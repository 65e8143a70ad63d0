// Running totals of the consumers and arrears selected on the DO-list page; the page works without it.
(() => {
  const form = document.getElementById("drop-form");
  if (!form) return;
  const boxes = () => form.querySelectorAll("tbody input[name=order]");
  const all = document.getElementById("all-matching");
  const show = () => {
    let count = 0;
    let paise = 0;
    if (all && all.checked) {
      count = Number(all.dataset.count);
      paise = Math.round(Number(all.dataset.arrears) * 100);
    } else {
      boxes().forEach((box) => {
        if (box.checked) { count += 1; paise += Math.round(Number(box.dataset.arrears) * 100); }
      });
    }
    document.getElementById("selected-count").textContent = count.toLocaleString("en-IN");
    document.getElementById("selected-arrears").textContent =
      (paise / 100).toLocaleString("en-IN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  };
  form.addEventListener("change", () => setTimeout(show, 0));
  form.addEventListener("click", (event) => {
    const none = event.target.closest("[data-select-none]");
    if (none) {
      document.querySelectorAll(none.dataset.selectNone).forEach((box) => { box.checked = false; });
      const page = document.getElementById("select-page");
      if (page) page.checked = false;
      show();
    }
  });
  show();
})();
