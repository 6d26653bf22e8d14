// Calendar grid: practitioner colours and arrow-key movement between cells.
// No inline styles or scripts in the markup (CSP): colours come from data-colour attributes.
(function () {
  "use strict";
  var COLOUR = /^#[0-9a-fA-F]{6}$/;
  document.querySelectorAll("[data-colour]").forEach(function (element) {
    var colour = element.dataset.colour;
    if (COLOUR.test(colour)) {
      element.style.setProperty("--col", colour);
    }
  });

  // Cards sit at their start time and length, overlapping ones side by side: the cell spans
  // whole 15-minute rows, each card says how far into it it starts (data-offset, minutes),
  // how long it lasts (data-minutes) and its lane (data-lane of data-lanes).
  var cardCells = document.querySelectorAll("td[data-cal-lanes]");
  // First take every card out of the flow, so no card stretches a row, then measure.
  cardCells.forEach(function (cell) {
    cell.classList.add("cal-placed");
  });
  cardCells.forEach(function (cell) {
    var rowHeight = cell.getBoundingClientRect().height / (cell.rowSpan || 1);
    cell.querySelectorAll(".cal-appt[data-offset]").forEach(function (card) {
      var offset = Number(card.dataset.offset) || 0;
      var minutes = Math.max(Number(card.dataset.minutes) || 15, 1);
      var lane = Number(card.dataset.lane) || 0;
      var lanes = Math.max(Number(card.dataset.lanes) || 1, 1);
      var height = Math.max((minutes / 15) * rowHeight - 2, 6);
      card.style.top = (offset / 15) * rowHeight + 1 + "px";
      card.style.height = height + "px";
      card.style.setProperty("--card-height", height + "px");
      card.style.left = "calc(" + (lane * 100) / lanes + "% + 1px)";
      card.style.width = "calc(" + 100 / lanes + "% - 2px)";
    });
  });

  // Arrow keys move focus to the nearest focusable cell in that direction.
  document.querySelectorAll("table[data-calendar]").forEach(function (table) {
    table.addEventListener("keydown", function (event) {
      var keys = { ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0] };
      var move = keys[event.key];
      if (!move || !event.target.matches("[data-cal-cell]")) {
        return;
      }
      var here = event.target.getBoundingClientRect();
      var x = here.left + here.width / 2;
      var y = here.top + Math.min(here.height / 2, 12);
      var best = null;
      var bestScore = Infinity;
      table.querySelectorAll("[data-cal-cell]").forEach(function (cell) {
        if (cell === event.target) {
          return;
        }
        var box = cell.getBoundingClientRect();
        var cx = box.left + box.width / 2;
        var cy = box.top + Math.min(box.height / 2, 12);
        var dx = cx - x;
        var dy = cy - y;
        var along = move[0] !== 0 ? dx * move[0] : dy * move[1];
        var across = move[0] !== 0 ? Math.abs(dy) : Math.abs(dx);
        if (along <= 1) {
          return;
        }
        var score = along + across * 4;
        if (score < bestScore) {
          bestScore = score;
          best = cell;
        }
      });
      if (best) {
        event.preventDefault();
        best.focus();
        best.scrollIntoView({ block: "nearest", inline: "nearest" });
      }
    });
  });
})();
