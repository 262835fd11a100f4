// Applies the remembered theme before the page paints (no flash): "dark", "light", or the system's.
(function () {
  var t = null;
  try { t = localStorage.getItem("mip-theme"); } catch (e) {}
  if (t !== "dark" && t !== "light") {
    t = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }
  document.documentElement.setAttribute("data-theme", t);
})();
