"use strict";
// report.html's only script: sorting for every table.sortable and the filters of the
// non-compliant table. The page reads the same without it (the controls stay hidden), and the
// page's Content-Security-Policy allows exactly this text by its SHA-256 hash.
(function () {
  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");

  function cellValue(row, index, type) {
    var cell = row.cells[index];
    var text = cell ? (cell.getAttribute("data-value") || cell.textContent.trim()) : "";
    if (type === "number") {
      var number = parseFloat(text);
      return isNaN(number) ? null : number;
    }
    return text;
  }

  function compare(a, b, type) {
    if (type === "number") {
      // Rows without a number (no score yet) sort last in either direction.
      if (a === null || b === null) return a === b ? 0 : (a === null ? 1 : -1);
      return a - b;
    }
    return a.localeCompare(b);
  }

  function sortBy(table, header) {
    var headers = table.tHead.rows[0].cells;
    var index = Array.prototype.indexOf.call(headers, header);
    var type = header.getAttribute("data-sort-type") || "text";
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (row, position) {
      return { row: row, value: cellValue(row, index, type), position: position };
    });
    rows.sort(function (a, b) {
      var order = compare(a.value, b.value, type);
      if (order !== 0 && (a.value !== null && b.value !== null)) {
        order = ascending ? order : -order;
      }
      return order || a.position - b.position;
    });
    rows.forEach(function (item) { body.appendChild(item.row); });
    Array.prototype.forEach.call(headers, function (cell) {
      if (cell.hasAttribute("data-sort-key")) cell.setAttribute("aria-sort", "none");
    });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.querySelectorAll("thead th[data-sort-key] button"),
      function (button) {
        button.addEventListener("click", function () { sortBy(table, button.parentNode); });
      });
  });

  var table = document.getElementById("noncompliant-table");
  var text = document.getElementById("filter");
  var count = document.getElementById("row-count");
  if (!table || !text || !count) return;
  var selects = Array.prototype.slice.call(document.querySelectorAll("select.filter-column"));
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);

  function applyFilters() {
    var needle = text.value.trim().toLocaleLowerCase();
    var shown = 0;
    rows.forEach(function (row) {
      // Cell by cell: the row's own textContent runs neighbouring cells together.
      var cells = Array.prototype.map.call(row.cells, function (cell) {
        return cell.textContent.toLocaleLowerCase();
      });
      var visible = !needle || cells.some(function (cell) {
        return cell.indexOf(needle) !== -1;
      });
      selects.forEach(function (select) {
        var index = parseInt(select.getAttribute("data-column"), 10);
        if (visible && select.value && row.cells[index].textContent.trim() !== select.value) {
          visible = false;
        }
      });
      row.hidden = !visible;
      if (visible) shown += 1;
    });
    count.textContent = shown.toLocaleString("en-US") + " of " +
      rows.length.toLocaleString("en-US") + " rows shown";
  }

  text.addEventListener("input", applyFilters);
  selects.forEach(function (select) { select.addEventListener("change", applyFilters); });
}());
