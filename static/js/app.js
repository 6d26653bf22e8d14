// Site-wide behaviour. No inline scripts anywhere: the Content Security Policy forbids them.
(function () {
  "use strict";
  // Buttons with data-confirm ask before submitting their form.
  document.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    var message = (submitter && submitter.dataset.confirm) || event.target.dataset.confirm;
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
  // Controls with data-autosubmit submit their form when changed (date pickers, filters).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.dataset && target.dataset.autosubmit !== undefined && target.form) {
      target.form.requestSubmit();
    }
  });
})();
