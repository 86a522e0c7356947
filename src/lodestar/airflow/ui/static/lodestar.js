// Lodestar data products page: the only script of the page, and nothing it needs is fetched.
"use strict";

// Links to Airflow's own views (data-airflow): when the page is shown inside Airflow's frame,
// move the Airflow window there instead of opening Airflow inside its own frame. Airflow's
// router follows history changes, so a pushState plus a popstate event is a navigation.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-airflow]");
  if (!link || window.top === window.self || event.ctrlKey || event.metaKey) {
    return;
  }
  try {
    const top = window.top;
    if (top.location.origin !== window.location.origin) {
      return;
    }
    const current = top.history.state || {};
    const next = { usr: null, key: Math.random().toString(36).slice(2, 10), idx: (current.idx || 0) + 1 };
    event.preventDefault();
    top.history.pushState(next, "", link.href);
    top.dispatchEvent(new PopStateEvent("popstate", { state: next }));
  } catch (error) {
    // the frame may not reach its parent: the link then opens inside the frame
  }
});

// Expand or collapse the whole business chain.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-tree]");
  if (!button) {
    return;
  }
  const open = button.dataset.tree === "open";
  document.querySelectorAll("ul.tree details").forEach((node) => {
    node.open = open;
  });
});
