"""The finance dashboard: static HTML, JS and CSS plus a vendored Chart.js (MIT)."""
