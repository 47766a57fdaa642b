// Small progressive enhancements; every page works without them.
document.addEventListener("click", (event) => {
  // Close an open Actions / three-dots menu when clicking elsewhere.
  document.querySelectorAll("details.menu[open]").forEach((menu) => {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  });
});
