//! A loaded page and what the http engine does with its HTML: find elements, read its text,
//! keep the values steps fill in, and build the request a form submits.
//!
//! The parsed document (`scraper::Html`) is not `Send`, so it never lives across an await:
//! each step parses the stored body again (cheap for form pages) and returns plain data.
//! Filled values are kept by element position in document order, which the same body
//! always reproduces.

use std::collections::HashMap;

use reqwest::Method;
use scraper::{ElementRef, Html, Selector};
use url::Url;

use super::multipart;
use crate::driver::files::Upload;
use crate::driver::rules::{collapse, radio_chosen, truthy};

/// A value a step set on a form field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FieldValue {
    /// A text input's or textarea's value.
    Text(String),
    /// A checkbox's or radio's checkedness.
    Checked(bool),
    /// The chosen option of a select, by option value.
    Option(String),
    /// The file attached to a file input.
    File(Upload),
}

/// An entry of a form's data set: text, or a file input's file (`None`: no file chosen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Entry {
    Text(String),
    File(Option<Upload>),
}

/// A request to make: a link to follow or a form to submit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Navigation {
    pub(crate) method: Method,
    pub(crate) url: Url,
    /// The body a form submits, with its `Content-Type`.
    pub(crate) body: Option<Body>,
}

/// A request body and its media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Body {
    pub(crate) content_type: String,
    pub(crate) bytes: Vec<u8>,
}

impl Navigation {
    pub(crate) fn get(url: Url) -> Self {
        Self { method: Method::GET, url, body: None }
    }
}

/// The page a job is on.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    pub(crate) url: Url,
    pub(crate) status: u16,
    pub(crate) body: String,
    /// Values set by fill/select steps, by element position.
    pub(crate) values: HashMap<usize, FieldValue>,
    /// Why the body cannot be read as HTML, if it cannot.
    pub(crate) not_html: Option<String>,
}

/// A step that found the page wanting: the message says what was looked for and what was
/// there.
pub(crate) type Wanting = String;

fn selector(raw: &str) -> Result<Selector, Wanting> {
    Selector::parse(raw).map_err(|e| format!("`{raw}` is not a valid CSS selector ({e})"))
}

fn tag(el: ElementRef<'_>) -> String {
    el.value().name().to_ascii_lowercase()
}

fn attr<'a>(el: ElementRef<'a>, name: &str) -> Option<&'a str> {
    el.value().attr(name)
}

fn input_type(el: ElementRef<'_>) -> String {
    attr(el, "type").map(str::to_ascii_lowercase).unwrap_or_else(|| "text".to_owned())
}

/// `<button>` with type submit (the default) or `<input type=submit|image>`.
fn is_submit_button(el: ElementRef<'_>) -> bool {
    match tag(el).as_str() {
        "button" => attr(el, "type").is_none_or(|t| t.eq_ignore_ascii_case("submit")),
        "input" => matches!(input_type(el).as_str(), "submit" | "image"),
        _ => false,
    }
}

/// A short description of an element for messages: `<input name="email">`.
fn describe(el: ElementRef<'_>) -> String {
    let mut s = format!("<{}", tag(el));
    for key in ["id", "name", "type"] {
        if let Some(v) = attr(el, key) {
            s.push_str(&format!(" {key}=\"{v}\""));
        }
    }
    s.push('>');
    s
}

impl Page {
    pub(crate) fn new(url: Url, status: u16, content_type: Option<String>, bytes: &[u8]) -> Self {
        let html_type = content_type.as_deref().map(|ct| {
            let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            mime.starts_with("text/") || mime.contains("html") || mime.contains("xml")
        });
        let (body, not_html) = match (std::str::from_utf8(bytes), html_type) {
            (_, Some(false)) => (
                String::new(),
                Some(format!(
                    "the page is not HTML (Content-Type: {}, {} bytes)",
                    content_type.as_deref().unwrap_or("?"),
                    bytes.len()
                )),
            ),
            (Ok(text), _) => (text.to_owned(), None),
            // Declared as text: decode what is there (many pages are Latin-1).
            (Err(_), Some(true)) => (String::from_utf8_lossy(bytes).into_owned(), None),
            (Err(e), None) => (
                String::new(),
                Some(format!(
                    "the page is not text (no Content-Type, invalid UTF-8 at byte {})",
                    e.valid_up_to()
                )),
            ),
        };
        Self { url, status, body, values: HashMap::new(), not_html }
    }

    fn html(&self) -> Result<Html, Wanting> {
        match &self.not_html {
            Some(why) => Err(why.clone()),
            None => Ok(Html::parse_document(&self.body)),
        }
    }

    /// Whether `sel` matches anything.
    pub(crate) fn has(&self, sel: &str) -> Result<bool, Wanting> {
        let sel = selector(sel)?;
        let html = self.html()?;
        Ok(html.select(&sel).next().is_some())
    }

    /// The page's visible text, whitespace collapsed (scripts and styles left out).
    pub(crate) fn text(&self) -> Result<String, Wanting> {
        let html = self.html()?;
        let mut out = String::new();
        for node in html.root_element().descendants() {
            if let Some(text) = node.value().as_text() {
                let hidden = node.ancestors().filter_map(ElementRef::wrap).any(|el| {
                    matches!(el.value().name(), "script" | "style" | "noscript" | "template" | "head")
                });
                if !hidden {
                    out.push_str(text);
                    out.push(' ');
                }
            }
        }
        Ok(collapse(&out))
    }

    /// The title, for messages.
    pub(crate) fn title(&self) -> Option<String> {
        let html = self.html().ok()?;
        let sel = Selector::parse("title").ok()?;
        html.select(&sel).next().map(|t| collapse(&t.text().collect::<String>())).filter(|t| !t.is_empty())
    }

    /// `fill`: sets a field's value.
    pub(crate) fn fill(&mut self, sel: &str, value: &str) -> Result<(), Wanting> {
        let parsed = selector(sel)?;
        let html = self.html()?;
        let el = html.select(&parsed).next().ok_or_else(|| format!("no element matches `{sel}`"))?;
        let index = position(&html, el);
        match tag(el).as_str() {
            "textarea" => {
                self.values.insert(index, FieldValue::Text(value.to_owned()));
            }
            "select" => {
                let option = choose_option(el, value)?;
                self.values.insert(index, FieldValue::Option(option));
            }
            "input" => match input_type(el).as_str() {
                "checkbox" => {
                    self.values.insert(index, FieldValue::Checked(truthy(value)));
                }
                "radio" => {
                    let on = radio_chosen(value, attr(el, "value"));
                    if on {
                        for other in radio_group(&html, el) {
                            self.values.insert(other, FieldValue::Checked(false));
                        }
                    }
                    self.values.insert(index, FieldValue::Checked(on));
                }
                "submit" | "image" | "button" | "reset" | "file" => {
                    return Err(format!("{} cannot be filled", describe(el)));
                }
                _ => {
                    self.values.insert(index, FieldValue::Text(value.to_owned()));
                }
            },
            _ => return Err(format!("{} matched by `{sel}` is not a form field", describe(el))),
        }
        Ok(())
    }

    /// `select`: chooses an option of a `<select>`.
    pub(crate) fn select(&mut self, sel: &str, value: &str) -> Result<(), Wanting> {
        let parsed = selector(sel)?;
        let html = self.html()?;
        let el = html.select(&parsed).next().ok_or_else(|| format!("no element matches `{sel}`"))?;
        if tag(el) != "select" {
            return Err(format!("{} matched by `{sel}` is not a <select>", describe(el)));
        }
        let option = choose_option(el, value)?;
        self.values.insert(position(&html, el), FieldValue::Option(option));
        Ok(())
    }

    /// `attach`: gives a file input its file.
    pub(crate) fn attach(&mut self, sel: &str, upload: Upload) -> Result<(), Wanting> {
        let parsed = selector(sel)?;
        let html = self.html()?;
        let el = html.select(&parsed).next().ok_or_else(|| format!("no element matches `{sel}`"))?;
        if tag(el) != "input" || input_type(el) != "file" {
            return Err(format!("{} matched by `{sel}` is not an <input type=\"file\">", describe(el)));
        }
        self.values.insert(position(&html, el), FieldValue::File(upload));
        Ok(())
    }

    /// `click`: a link to follow or a submit button to press.
    pub(crate) fn click(&self, sel: &str) -> Result<Navigation, Wanting> {
        let parsed = selector(sel)?;
        let html = self.html()?;
        let el = html.select(&parsed).next().ok_or_else(|| format!("no element matches `{sel}`"))?;
        if tag(el) == "a" {
            let href = attr(el, "href").ok_or_else(|| format!("{} has no href to follow", describe(el)))?;
            let url = self.url.join(href.trim()).map_err(|e| format!("link `{href}` is not a URL ({e})"))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(format!(
                    "link `{href}` is not an http(s) link; the http engine runs no scripts (use the webdriver engine)"
                ));
            }
            return Ok(Navigation::get(url));
        }
        if is_submit_button(el) {
            let form = form_owner(&html, el).ok_or_else(|| format!("{} is in no form", describe(el)))?;
            return self.submission(&html, form, Some(el));
        }
        Err(format!(
            "{} is neither a link nor a submit button: the http engine runs no scripts, so it only follows \
             links and presses submit buttons (use the webdriver engine for this page)",
            describe(el)
        ))
    }

    /// `submit`: the selected form, or the form of the selected element (pressing it when it
    /// is a submit button); without a selector, the first form.
    pub(crate) fn submit(&self, sel: Option<&str>) -> Result<Navigation, Wanting> {
        let raw = sel.unwrap_or("form");
        let parsed = selector(raw)?;
        let html = self.html()?;
        let el = html.select(&parsed).next().ok_or_else(|| match sel {
            Some(s) => format!("no element matches `{s}`"),
            None => "the page has no form".to_owned(),
        })?;
        if tag(el) == "form" {
            return self.submission(&html, el, None);
        }
        let form =
            form_owner(&html, el).ok_or_else(|| format!("{} is not a form nor in one", describe(el)))?;
        let submitter = is_submit_button(el).then_some(el);
        self.submission(&html, form, submitter)
    }

    /// The request submitting `form` (with `submitter` pressed) makes, as browsers build it.
    fn submission(
        &self,
        html: &Html,
        form: ElementRef<'_>,
        submitter: Option<ElementRef<'_>>,
    ) -> Result<Navigation, Wanting> {
        let pick = |name: &str| submitter.and_then(|s| attr(s, name)).or_else(|| attr(form, name));
        let method =
            match pick("formmethod").or_else(|| pick("method")).map(str::to_ascii_lowercase).as_deref() {
                Some("post") => Method::POST,
                Some("dialog") => return Err("the form's method is `dialog`: it submits nothing".to_owned()),
                _ => Method::GET,
            };
        let enctype = pick("formenctype").or_else(|| pick("enctype")).map(str::to_ascii_lowercase);
        let multipart = method == Method::POST && enctype.as_deref() == Some("multipart/form-data");
        let action = pick("formaction").or_else(|| pick("action")).map(str::trim).filter(|a| !a.is_empty());
        let mut url = match action {
            Some(a) => self.url.join(a).map_err(|e| format!("form action `{a}` is not a URL ({e})"))?,
            None => self.url.clone(),
        };
        url.set_fragment(None);
        let fields = self.form_fields(html, form, submitter);
        if multipart {
            let boundary = multipart::boundary();
            let bytes = multipart::encode(&fields, &boundary);
            let content_type = format!("multipart/form-data; boundary={boundary}");
            return Ok(Navigation { method, url, body: Some(Body { content_type, bytes }) });
        }
        // Outside multipart, a file input sends its file's name only (the HTML standard's
        // conversion of the form data set).
        let mut encoder = form_urlencoded::Serializer::new(String::new());
        for (name, entry) in &fields {
            match entry {
                Entry::Text(value) => encoder.append_pair(name, value),
                Entry::File(file) => {
                    encoder.append_pair(name, file.as_ref().map_or("", |f| f.filename.as_str()))
                }
            };
        }
        let encoded = encoder.finish();
        if method == Method::GET {
            url.set_query(if encoded.is_empty() { None } else { Some(&encoded) });
            Ok(Navigation::get(url))
        } else {
            let body = Body {
                content_type: "application/x-www-form-urlencoded".to_owned(),
                bytes: encoded.into_bytes(),
            };
            Ok(Navigation { method, url, body: Some(body) })
        }
    }

    /// The form data set: every enabled, named field owned by `form`, in document order.
    fn form_fields(
        &self,
        html: &Html,
        form: ElementRef<'_>,
        submitter: Option<ElementRef<'_>>,
    ) -> Vec<(String, Entry)> {
        fn push_text(out: &mut Vec<(String, Entry)>, name: String, value: String) {
            out.push((name, Entry::Text(value)));
        }
        let mut out: Vec<(String, Entry)> = Vec::new();
        for (index, el) in elements(html).enumerate() {
            let kind = tag(el);
            if !matches!(kind.as_str(), "input" | "select" | "textarea" | "button") {
                continue;
            }
            if form_owner(html, el).is_none_or(|owner| owner.id() != form.id()) || is_disabled(el) {
                continue;
            }
            let Some(name) = attr(el, "name").filter(|n| !n.is_empty()) else { continue };
            let set = self.values.get(&index);
            let is_submitter = submitter.is_some_and(|s| s.id() == el.id());
            match kind.as_str() {
                "button" => {
                    if is_submitter {
                        push_text(&mut out, name.to_owned(), attr(el, "value").unwrap_or("").to_owned());
                    }
                }
                "textarea" => {
                    let value = match set {
                        Some(FieldValue::Text(v)) => v.clone(),
                        _ => {
                            let text: String = el.text().collect();
                            text.strip_prefix('\n').map(str::to_owned).unwrap_or(text)
                        }
                    };
                    push_text(&mut out, name.to_owned(), value);
                }
                "select" => {
                    for value in selected_options(el, set) {
                        push_text(&mut out, name.to_owned(), value);
                    }
                }
                _ => match input_type(el).as_str() {
                    "submit" => {
                        if is_submitter {
                            push_text(
                                &mut out,
                                name.to_owned(),
                                attr(el, "value").unwrap_or("Submit").to_owned(),
                            );
                        }
                    }
                    "image" => {
                        if is_submitter {
                            push_text(&mut out, format!("{name}.x"), "0".to_owned());
                            push_text(&mut out, format!("{name}.y"), "0".to_owned());
                        }
                    }
                    "button" | "reset" => {}
                    "file" => {
                        let file = match set {
                            Some(FieldValue::File(upload)) => Some(upload.clone()),
                            _ => None,
                        };
                        out.push((name.to_owned(), Entry::File(file)));
                    }
                    "checkbox" | "radio" => {
                        let checked = match set {
                            Some(FieldValue::Checked(c)) => *c,
                            _ => attr(el, "checked").is_some(),
                        };
                        if checked {
                            push_text(
                                &mut out,
                                name.to_owned(),
                                attr(el, "value").unwrap_or("on").to_owned(),
                            );
                        }
                    }
                    _ => {
                        let value = match set {
                            Some(FieldValue::Text(v)) => v.clone(),
                            _ => attr(el, "value").unwrap_or("").to_owned(),
                        };
                        push_text(&mut out, name.to_owned(), value);
                    }
                },
            }
        }
        out
    }
}

/// Every element in document order.
fn elements(html: &Html) -> impl Iterator<Item = ElementRef<'_>> {
    html.root_element().descendants().filter_map(ElementRef::wrap)
}

/// An element's position in document order (the key of filled values).
fn position(html: &Html, el: ElementRef<'_>) -> usize {
    elements(html).position(|e| e.id() == el.id()).unwrap_or(usize::MAX)
}

/// The form an element belongs to: the one its `form` attribute names, else its nearest
/// form ancestor.
fn form_owner<'a>(html: &'a Html, el: ElementRef<'a>) -> Option<ElementRef<'a>> {
    if let Some(id) = attr(el, "form") {
        return elements(html).find(|f| tag(*f) == "form" && attr(*f, "id") == Some(id));
    }
    el.ancestors().filter_map(ElementRef::wrap).find(|a| tag(*a) == "form")
}

fn is_disabled(el: ElementRef<'_>) -> bool {
    attr(el, "disabled").is_some()
        || el
            .ancestors()
            .filter_map(ElementRef::wrap)
            .any(|a| tag(a) == "fieldset" && attr(a, "disabled").is_some())
}

/// The other radios of `el`'s group (same name, same form), by position.
fn radio_group(html: &Html, el: ElementRef<'_>) -> Vec<usize> {
    let (Some(name), owner) = (attr(el, "name"), form_owner(html, el).map(|f| f.id())) else {
        return Vec::new();
    };
    elements(html)
        .enumerate()
        .filter(|(_, e)| {
            tag(*e) == "input"
                && input_type(*e) == "radio"
                && attr(*e, "name") == Some(name)
                && form_owner(html, *e).map(|f| f.id()) == owner
        })
        .map(|(i, _)| i)
        .collect()
}

fn options(select: ElementRef<'_>) -> impl Iterator<Item = ElementRef<'_>> {
    select.descendants().filter_map(ElementRef::wrap).filter(|e| tag(*e) == "option")
}

fn option_value(option: ElementRef<'_>) -> String {
    attr(option, "value").map(str::to_owned).unwrap_or_else(|| collapse(&option.text().collect::<String>()))
}

/// The option of `select` whose value, else whose text, is `wanted`.
fn choose_option(select: ElementRef<'_>, wanted: &str) -> Result<String, Wanting> {
    let by_value = options(select).find(|o| option_value(*o) == wanted);
    let by_text = || options(select).find(|o| collapse(&o.text().collect::<String>()) == collapse(wanted));
    match by_value.or_else(by_text) {
        Some(o) if attr(o, "disabled").is_some() => Err(format!("option `{wanted}` is disabled")),
        Some(o) => Ok(option_value(o)),
        None => {
            let known: Vec<String> = options(select).take(10).map(option_value).collect();
            Err(format!("{} has no option `{wanted}` (options: {})", describe(select), known.join(", ")))
        }
    }
}

/// The values a select submits: the chosen one, else those marked selected, else (single
/// selects) the first enabled option.
fn selected_options(select: ElementRef<'_>, set: Option<&FieldValue>) -> Vec<String> {
    if let Some(FieldValue::Option(v)) = set {
        return vec![v.clone()];
    }
    let marked: Vec<String> =
        options(select).filter(|o| attr(*o, "selected").is_some()).map(option_value).collect();
    if !marked.is_empty() {
        return if attr(select, "multiple").is_some() {
            marked
        } else {
            marked.into_iter().last().into_iter().collect()
        };
    }
    if attr(select, "multiple").is_some() {
        return Vec::new();
    }
    options(select).find(|o| attr(*o, "disabled").is_none()).map(option_value).into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORM: &str = r#"<html><head><title> Contact  us </title><style>.x{}</style></head><body>
      <h1>Contact</h1><script>var hidden = "secret";</script>
      <form id="f" method="post" action="/send?x=1#frag">
        <input type="hidden" name="csrf" value="tok">
        <input name="name" value="default">
        <input name="off" value="no" disabled>
        <fieldset disabled><input name="off2" value="no"></fieldset>
        <textarea name="msg">
line</textarea>
        <select name="topic"><option value="a">Alpha</option><option selected>Beta Two</option></select>
        <select name="empty"><option disabled>x</option><option value="y">Y</option></select>
        <input type="checkbox" name="news" value="yes">
        <input type="checkbox" name="terms" checked>
        <input type="radio" name="r" value="1" checked><input type="radio" name="r" value="2">
        <input type="file" name="upload">
        <button name="go" value="send">Send</button>
        <button type="button" name="js">JS</button>
      </form>
      <input name="outside" form="f" value="o">
      <a href="/next?q=1">next</a><a href="javascript:void(0)">js</a>
      <form action="search"><input name="q"><input type="submit" name="s" value="Find"></form>
    </body></html>"#;

    fn page() -> Page {
        let url = Url::parse("http://site.test/contact/form").unwrap();
        Page::new(url, 200, Some("text/html; charset=utf-8".into()), FORM.as_bytes())
    }

    fn body(nav: &Navigation) -> Vec<(String, String)> {
        let bytes = nav.body.as_ref().map_or(&[][..], |b| &b.bytes[..]);
        form_urlencoded::parse(bytes).into_owned().collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
    }

    #[test]
    fn submit_builds_the_browser_form_data_set() {
        let nav = page().submit(None).unwrap();
        assert_eq!(nav.method, Method::POST);
        assert_eq!(nav.url.as_str(), "http://site.test/send?x=1");
        assert_eq!(
            body(&nav),
            pairs(&[
                ("csrf", "tok"),
                ("name", "default"),
                ("msg", "line"),
                ("topic", "Beta Two"),
                ("empty", "y"),
                ("terms", "on"),
                ("r", "1"),
                ("upload", ""),
                ("outside", "o"),
            ])
        );
    }

    #[test]
    fn filled_values_and_the_pressed_button_are_sent() {
        let mut p = page();
        p.fill("input[name=name]", "Ada & <Bob>").unwrap();
        p.fill("textarea", "hi\nthere").unwrap();
        p.select("select[name=topic]", "Alpha").unwrap();
        p.fill("input[name=news]", "true").unwrap();
        p.fill("input[name=terms]", "false").unwrap();
        p.fill("input[name=r][value='2']", "").unwrap();
        let nav = p.click("button[name=go]").unwrap();
        assert_eq!(
            body(&nav),
            pairs(&[
                ("csrf", "tok"),
                ("name", "Ada & <Bob>"),
                ("msg", "hi\nthere"),
                ("topic", "a"),
                ("empty", "y"),
                ("news", "yes"),
                ("r", "2"),
                ("upload", ""),
                ("go", "send"),
                ("outside", "o"),
            ])
        );
    }

    #[test]
    fn get_forms_put_fields_in_the_query() {
        let mut p = page();
        p.fill("input[name=q]", "a b").unwrap();
        let nav = p.click("input[name=s]").unwrap();
        assert_eq!(nav.method, Method::GET);
        assert_eq!(nav.url.as_str(), "http://site.test/contact/search?q=a+b&s=Find");
    }

    #[test]
    fn links_resolve_against_the_page() {
        assert_eq!(
            page().click("a").unwrap(),
            Navigation::get(Url::parse("http://site.test/next?q=1").unwrap())
        );
        let err = page().click("a[href^=javascript]").unwrap_err();
        assert!(err.contains("not an http(s) link"), "{err}");
        let err = page().click("button[name=js]").unwrap_err();
        assert!(err.contains("neither a link nor a submit button"), "{err}");
    }

    #[test]
    fn misses_say_what_was_looked_for() {
        let mut p = page();
        assert_eq!(p.fill("#nope", "x").unwrap_err(), "no element matches `#nope`");
        assert!(
            p.select("select[name=topic]", "Gamma")
                .unwrap_err()
                .contains("has no option `Gamma` (options: a, Beta Two)")
        );
        assert!(p.fill("h1", "x").unwrap_err().contains("<h1> matched by `h1` is not a form field"));
        assert!(p.fill("[[", "x").unwrap_err().contains("is not a valid CSS selector"));
    }

    #[test]
    fn text_leaves_out_scripts_and_styles() {
        let text = page().text().unwrap();
        assert!(text.starts_with("Contact "), "{text}");
        assert!(!text.contains("secret") && !text.contains(".x{}"), "{text}");
        assert_eq!(page().title().as_deref(), Some("Contact us"));
        assert!(page().has("form#f").unwrap());
        assert!(!page().has("form#g").unwrap());
    }

    #[test]
    fn non_html_pages_say_so() {
        let url = Url::parse("http://site.test/").unwrap();
        let p = Page::new(url.clone(), 200, Some("application/octet-stream".into()), &[0, 159, 146, 150]);
        assert_eq!(
            p.has("a").unwrap_err(),
            "the page is not HTML (Content-Type: application/octet-stream, 4 bytes)"
        );
        let p = Page::new(url, 200, None, &[0x66, 0xff, 0xfe]);
        assert_eq!(p.text().unwrap_err(), "the page is not text (no Content-Type, invalid UTF-8 at byte 1)");
    }
}
