// costexplorer web page: small progressive enhancements. The page works
// without this script; it adds filter boxes to long lists and polls for a
// processing query instead of refreshing the whole page.
(function () {
  'use strict';

  function each(list, fn) { Array.prototype.forEach.call(list, fn); }

  // A filter box above each long multi-select; selected options stay visible.
  each(document.querySelectorAll('select[data-filterable]'), function (sel) {
    var label = document.querySelector('label[for="' + sel.id + '"]');
    var count = document.createElement('span');
    count.className = 'selected-count';
    if (label) label.appendChild(count);
    function showCount() {
      var n = sel.selectedOptions ? sel.selectedOptions.length : 0;
      count.textContent = n ? n + ' selected' : '';
    }
    sel.addEventListener('change', showCount);
    showCount();
    if (sel.options.length < 8) return;
    var box = document.createElement('input');
    box.type = 'search';
    box.className = 'filter-box';
    box.placeholder = 'Filter ' + sel.options.length + '…';
    box.setAttribute('aria-controls', sel.id);
    box.setAttribute('aria-label', 'Filter ' + (label ? label.firstChild.textContent.trim() : 'list'));
    sel.parentNode.insertBefore(box, sel);
    box.addEventListener('input', function () {
      var q = box.value.trim().toLowerCase();
      each(sel.children, function (child) {
        if (child.tagName === 'OPTGROUP') {
          var groupMatch = q !== '' && child.label.toLowerCase().indexOf(q) >= 0;
          var any = false;
          each(child.children, function (o) {
            o.hidden = !(groupMatch || matches(o, q));
            any = any || !o.hidden;
          });
          child.hidden = !any;
        } else {
          child.hidden = !matches(child, q);
        }
      });
    });
  });

  function matches(o, q) {
    return q === '' || o.selected || o.text.toLowerCase().indexOf(q) >= 0;
  }

  // While a query processes, ask its status now and then and reload once
  // it is ready (or failed). Any other answer (a session that ended, an
  // error page) reloads too, so the page shows what the server says.
  var processing = document.querySelector('[data-state="processing"][data-status]');
  if (processing) {
    var url = processing.getAttribute('data-status');
    var delay = 400;
    var poll = function () {
      fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (res) {
          var type = res.headers.get('Content-Type') || '';
          if (!res.ok || type.indexOf('application/json') !== 0) return { state: 'reload' };
          return res.json();
        })
        .then(function (a) {
          if (a.state === 'processing') {
            delay = Math.min(5000, delay * 1.5);
            setTimeout(poll, delay);
          } else {
            location.reload();
          }
        })
        .catch(function () { setTimeout(poll, 5000); });
    };
    setTimeout(poll, delay);
  }
})();
