//! The scripts the webdriver engine runs in the page: each reads or sets one thing the
//! WebDriver protocol has no command for, and returns JSON the engine deserializes.

/// The document's identity (`performance.timeOrigin` changes with every page load), load
/// state, HTTP status (the navigation entry's `responseStatus`; `null` where the browser
/// gives none), URL, title, and whether [`WATCH`] saw this document start to leave.
pub(super) const DOC_STATE: &str = r#"
const nav = performance.getEntriesByType('navigation')[0];
const status = nav && typeof nav.responseStatus === 'number' && nav.responseStatus > 0 ? nav.responseStatus : null;
return { origin: performance.timeOrigin, ready: document.readyState, status: status,
         url: location.href, title: document.title, leaving: window.__runnerLeaving === true };
"#;

/// Arms the navigation watch on the current document, before a click or a submit: a click
/// returns before the browser has begun to load the page it leads to, so the engine cannot
/// tell "nothing happened" from "about to navigate" by looking at the document alone.
/// `window.__runnerLeaving` (read by [`DOC_STATE`]) becomes true when the action submits a
/// form that no handler cancelled, follows a link to another document, or the document
/// starts to unload (`beforeunload`, `pagehide`: a script that sets `location`). Listeners go
/// on `window` in the bubbling phase, so they run after the page's own handlers and see
/// whether those called `preventDefault`.
pub(super) const WATCH: &str = r#"
if (!window.__runnerWatch) {
  window.__runnerWatch = true;
  const leave = () => { window.__runnerLeaving = true; };
  const sameTab = (t) => !t || t === '_self';
  window.addEventListener('beforeunload', leave);
  window.addEventListener('pagehide', leave);
  window.addEventListener('submit', (e) => {
    const form = e.target;
    const target = (e.submitter && e.submitter.getAttribute('formtarget')) || form.getAttribute('target');
    const method = ((e.submitter && e.submitter.getAttribute('formmethod')) || form.method || '').toLowerCase();
    if (!e.defaultPrevented && method !== 'dialog' && sameTab(target)) leave();
  });
  window.addEventListener('click', (e) => {
    const a = e.target instanceof Element ? e.target.closest('a[href]') : null;
    if (!a || e.defaultPrevented || e.button !== 0 || a.hasAttribute('download') || !sameTab(a.getAttribute('target'))) return;
    const to = new URL(a.href, location.href);
    const here = new URL(location.href);
    if (to.protocol === 'javascript:') return;
    if (to.hash && to.origin === here.origin && to.pathname === here.pathname && to.search === here.search) return;
    leave();
  });
}
window.__runnerLeaving = false;
return null;
"#;

/// What kind of field `arguments[0]` is, and a short description of it for messages
/// (`<input id="a" name="b" type="c">`, as the http engine writes it).
pub(super) const FIELD_INFO: &str = r#"
const el = arguments[0];
const tag = el.tagName.toLowerCase();
const kind = tag === 'input' ? String(el.type || 'text').toLowerCase() : '';
let desc = '<' + tag;
for (const k of ['id', 'name', 'type']) {
  const v = el.getAttribute(k);
  if (v !== null) desc += ' ' + k + '="' + v + '"';
}
desc += '>';
return { tag: tag, kind: kind, checked: !!el.checked, value: el.getAttribute('value'), desc: desc };
"#;

/// Sets `arguments[0].value` to `arguments[1]` through the native setter (so frameworks that
/// wrap `value` see it) and fires `input` and `change`.
pub(super) const SET_VALUE: &str = r#"
const [el, value] = arguments;
const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, value);
el.dispatchEvent(new Event('input', { bubbles: true }));
el.dispatchEvent(new Event('change', { bubbles: true }));
return null;
"#;

/// Sets `arguments[0].checked` to `arguments[1]` and fires `input` and `change`.
pub(super) const SET_CHECKED: &str = r#"
const [el, on] = arguments;
Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'checked').set.call(el, on);
el.dispatchEvent(new Event('input', { bubbles: true }));
el.dispatchEvent(new Event('change', { bubbles: true }));
return null;
"#;

/// Chooses the option of the select `arguments[0]` whose value, else whose text (whitespace
/// collapsed), is `arguments[1]`; fires `input` and `change`. Answers `{error: null}`, or
/// `{error: "disabled"}`, or `{error: "missing", known: [first ten values]}`.
pub(super) const CHOOSE: &str = r#"
const [el, wanted] = arguments;
const collapse = (s) => s.split(/\s+/).filter(Boolean).join(' ');
const opts = Array.from(el.options);
const opt = opts.find((o) => o.value === wanted) || opts.find((o) => collapse(o.text) === collapse(wanted));
if (!opt) return { error: 'missing', known: opts.slice(0, 10).map((o) => o.value) };
if (opt.disabled) return { error: 'disabled' };
opt.selected = true;
el.dispatchEvent(new Event('input', { bubbles: true }));
el.dispatchEvent(new Event('change', { bubbles: true }));
return { error: null };
"#;

/// Submits: `arguments[0]` is a form (submitted), a submit button (answers `click: true`:
/// the engine clicks it), an element in a form (its form submitted), or `null` (the first
/// form). `requestSubmit` runs validation and `submit` handlers, as pressing Enter would.
pub(super) const SUBMIT: &str = r#"
let target = arguments[0];
if (target === null) {
  target = document.querySelector('form');
  if (!target) return { error: 'the page has no form' };
}
const tag = target.tagName.toLowerCase();
let desc = '<' + tag;
for (const k of ['id', 'name', 'type']) {
  const v = target.getAttribute(k);
  if (v !== null) desc += ' ' + k + '="' + v + '"';
}
desc += '>';
if (tag === 'form') { target.requestSubmit(); return { error: null, click: false }; }
const type = String(target.type || '').toLowerCase();
if ((tag === 'button' || tag === 'input') && (type === 'submit' || type === 'image') && target.form) {
  return { error: null, click: true };
}
const form = target.form || target.closest('form');
if (!form) return { error: desc + ' is not a form nor in one' };
form.requestSubmit();
return { error: null, click: false };
"#;

/// The visible text of the page (`innerText`: what a person reads, hidden elements left out).
pub(super) const TEXT: &str = r#"
const root = document.body || document.documentElement;
return root ? root.innerText : '';
"#;
