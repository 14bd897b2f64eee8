// Keyboard shortcuts for the moderator console: j / k move through the queue, o (or
// Enter) opens the selected item, s / h label it spam / ham. No other script runs here;
// every value on the page was rendered by the server, escaped.
(function () {
  'use strict';
  const rows = () => Array.from(document.querySelectorAll('#queue tbody tr'));
  let index = -1;

  function select(i) {
    const all = rows();
    if (!all.length) return;
    index = Math.max(0, Math.min(all.length - 1, i));
    all.forEach((row, k) => row.classList.toggle('selected', k === index));
    all[index].scrollIntoView({ block: 'nearest' });
  }

  function press(selector) {
    // on the queue, only the selected row; on an item's page, its own buttons
    const all = rows();
    const scope = all.length ? all[index] : document;
    const target = scope ? scope.querySelector(selector) : null;
    if (target) target.click();
  }

  document.addEventListener('keydown', (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const tag = (event.target && event.target.tagName) || '';
    if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT') return;
    const onQueue = rows().length > 0;
    if (event.key === 'j' && onQueue) select(index + 1);
    else if (event.key === 'k' && onQueue) select(index - 1);
    else if ((event.key === 'o' || event.key === 'Enter') && onQueue && index >= 0) press('a.open');
    else if (event.key === 's') press('button.spam');
    else if (event.key === 'h') press('button.ham');
    else return;
    event.preventDefault();
  });
})();
