// A button with data-print opens the browser's print dialog (the page's print styles give the
// table on A4); without JavaScript the button stays hidden and the browser's menu prints.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
