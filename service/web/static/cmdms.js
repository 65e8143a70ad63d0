// Small progressive enhancements; every page works without them.
document.addEventListener("click", (event) => {
  const toggle = event.target.closest("[data-toggle-filters]");
  if (toggle) {
    const target = document.getElementById(toggle.dataset.toggleFilters);
    if (target) {
      const shown = target.classList.toggle("shown");
      toggle.setAttribute("aria-expanded", shown ? "true" : "false");
    }
  }
});
document.addEventListener("change", (event) => {
  const all = event.target.closest("[data-select-page]");
  if (all) {
    document.querySelectorAll(all.dataset.selectPage).forEach((box) => { box.checked = all.checked; });
  }
});
