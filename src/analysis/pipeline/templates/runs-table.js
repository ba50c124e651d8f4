(function () {
  var table = document.getElementById("runs-table");
  var filter = document.getElementById("runs-filter");
  var count = document.getElementById("runs-count");
  if (!table || !filter) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  function show() {
    var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    rows.forEach(function (row) {
      var text = row.textContent.toLowerCase();
      var keep = words.every(function (w) { return text.indexOf(w) >= 0; });
      row.hidden = !keep;
      if (keep) { shown += 1; }
    });
    count.textContent = shown + " of " + rows.length + " runs";
  }
  filter.addEventListener("input", show);
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell, column) {
    cell.addEventListener("click", function () {
      var ascending = cell.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute("aria-sort"); });
      cell.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      rows.sort(function (a, b) {
        var x = a.cells[column], y = b.cells[column];
        if (x.hasAttribute("data-sort") || y.hasAttribute("data-sort")) {
          // A column of numbers: sorted by value, a run without one last whichever the direction.
          var p = x.getAttribute("data-sort"), q = y.getAttribute("data-sort");
          if (!p || !q) { return (p ? 0 : 1) - (q ? 0 : 1); }
          return ascending ? Number(p) - Number(q) : Number(q) - Number(p);
        }
        var order = x.textContent.localeCompare(y.textContent, undefined, { numeric: true });
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
  show();
})();
