/* How the web publication writes a number: the twin of monitor_dagster/publication/numbers.py.
 *
 * Dutch style (decimal comma, a point between thousands, also in a four-digit count), the minus sign U+2212
 * instead of the hyphen, no sign on a value that rounds to zero, "+" on a signed positive value (a gap).
 * Intl.NumberFormat('nl-NL') rounds half away from zero on the shortest decimal form of the number, as the
 * Python side does; a browser test compares both on awkward values.  A missing value (null: not published)
 * gives the en dash, never a zero.
 */
(function () {
  "use strict";
  var MINUS = "\u2212", MISSING = "\u2013";
  var cache = {};
  function formatter(decimals) {
    if (!cache[decimals]) {
      cache[decimals] = new Intl.NumberFormat("nl-NL", { minimumFractionDigits: decimals, maximumFractionDigits: decimals,
        useGrouping: true });
    }
    return cache[decimals];
  }
  function number(value, decimals, signed) {
    if (value === null || value === undefined || typeof value !== "number" || isNaN(value)) { return MISSING; }
    var text = formatter(decimals || 0).format(Math.abs(value));
    if (/^[0.,]*$/.test(text)) { return text; }          // rounds to zero: no sign
    if (value < 0) { return MINUS + text; }
    return signed ? "+" + text : text;
  }
  window.MonitorNumbers = {
    MINUS: MINUS,
    MISSING: MISSING,
    number: number,
    count: function (n) { return number(n, 0, false); }
  };
})();
