// web/static/keys.js - keyboard shortcuts: one table of {key, help, run} drives both the
// key handler and the help dialog's list. Keys typed into a form field, or with a
// modifier, are the field's; while the help dialog is open only '?' (which closes it) acts.

import { h } from './dom.js';
import { t } from './i18n.js';

export function renderKeys(dl, shortcuts) {
  dl.replaceChildren(...shortcuts.flatMap((s) => [h('dt', {}, h('kbd', {}, s.key)), h('dd', {}, t(s.help))]));
}

// active(): whether the shortcuts apply now (signed in); helpOpen(): the help dialog is open
export function keyHandler(shortcuts, active, helpOpen) {
  return (e) => {
    if (!active() || e.ctrlKey || e.metaKey || e.altKey) return;
    const tag = e.target && e.target.tagName;
    if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || (e.target && e.target.isContentEditable)) return;
    if (helpOpen() && e.key !== '?') return;
    const s = shortcuts.find((x) => x.key === e.key && x.run);
    if (!s) return;
    e.preventDefault();
    s.run();
  };
}
