// A button with data-copy="<text>" copies it and says so; without the Clipboard API (old
// WeChat browsers) it selects the code instead, so a long press copies it.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  if (!button) return;
  var text = button.getAttribute("data-copy");
  var done = function () { button.textContent = button.getAttribute("data-copied"); };
  var select = function () {
    var target = document.getElementById(button.getAttribute("aria-controls"));
    if (!target) return;
    var range = document.createRange();
    range.selectNodeContents(target);
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, select);
  } else {
    select();
  }
});
