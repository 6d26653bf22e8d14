// Treatment pages: add parameter rows to the catalogue form, suggest a series' session count.
// Loaded as a file (no inline scripts: the Content Security Policy forbids them).
(function () {
  "use strict";

  // Catalogue form: "Add a parameter" copies the empty row from its <template>.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-add-parameter]");
    if (!button) {
      return;
    }
    var rows = document.getElementById("parameter-rows");
    var template = document.getElementById("parameter-row-template");
    if (!rows || !template) {
      return;
    }
    var prefix = rows.dataset.formsetPrefix;
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var max = document.getElementById("id_" + prefix + "-MAX_NUM_FORMS");
    var index = parseInt(total.value, 10);
    if (max && index >= parseInt(max.value, 10)) {
      button.disabled = true;
      return;
    }
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    var holder = document.createElement("div");
    holder.innerHTML = html.replace("Parameter new", "Parameter " + (index + 1));
    var row = holder.firstElementChild;
    rows.appendChild(row);
    total.value = String(index + 1);
    var first = row.querySelector("input, select");
    if (first) {
      first.focus();
    }
  });

  // Planning a series: the suggested session count follows the chosen treatment until the
  // practitioner types their own number.
  var typeSelect = document.querySelector("[data-suggested-sessions]");
  var countInput = document.querySelector("[data-suggested-target]");
  if (typeSelect && countInput) {
    var suggestions = JSON.parse(typeSelect.dataset.suggestedSessions || "{}");
    var lastSuggested = countInput.value;
    typeSelect.addEventListener("change", function () {
      var suggested = suggestions[typeSelect.value];
      if (suggested !== undefined && countInput.value === lastSuggested) {
        countInput.value = String(suggested);
        lastSuggested = countInput.value;
      }
    });
  }
})();

// Aftercare page: the Print button prints the note (print CSS hides the navigation).
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});
