//! From what a tenant gives us (plain text, Markdown or an HTML page) to sections of paragraphs
//! under their headings: the structure chunking and citations rely on. Navigation, scripts and
//! other page furniture are left out.

use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};
use scraper::{ElementRef, Html, Node};

/// How a document's content is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
    Html,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Markdown => "markdown",
            Format::Html => "html",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "text" => Some(Format::Text),
            "markdown" => Some(Format::Markdown),
            "html" => Some(Format::Html),
            _ => None,
        }
    }
}

/// Paragraphs under the same headings (outermost first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    pub headings: Vec<String>,
    pub paragraphs: Vec<String>,
}

/// The text of a document, with the page's own title when it has one (HTML `<title>`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extracted {
    pub title: Option<String>,
    pub sections: Vec<Section>,
}

impl Extracted {
    pub fn characters(&self) -> usize {
        self.sections.iter().flat_map(|s| &s.paragraphs).map(|p| p.chars().count()).sum()
    }
}

pub fn extract(content: &str, format: Format) -> Extracted {
    match format {
        Format::Text => Extracted { title: None, sections: plain(content) },
        Format::Markdown => Extracted { title: None, sections: markdown(content) },
        Format::Html => html(content),
    }
}

/// Collects paragraphs and starts a new section whenever the headings change.
#[derive(Default)]
struct Builder {
    sections: Vec<Section>,
    headings: Vec<(usize, String)>,
    paragraph: String,
}

impl Builder {
    /// Text as it comes; whitespace is collapsed when the paragraph ends, so inline markup
    /// (`<b>30 days</b>.`) adds no spaces of its own.
    fn text(&mut self, text: &str) {
        self.paragraph.push_str(text);
    }

    fn end_paragraph(&mut self) {
        let raw = std::mem::take(&mut self.paragraph);
        let paragraph = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if paragraph.is_empty() {
            return;
        }
        let headings: Vec<String> = self.headings.iter().map(|(_, h)| h.clone()).collect();
        match self.sections.last_mut() {
            Some(section) if section.headings == headings => section.paragraphs.push(paragraph),
            _ => self.sections.push(Section { headings, paragraphs: vec![paragraph] }),
        }
    }

    /// A heading of `level` (1 = outermost) replaces those at its level and below.
    fn heading(&mut self, level: usize, text: String) {
        self.end_paragraph();
        self.headings.retain(|(l, _)| *l < level);
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if !text.is_empty() {
            self.headings.push((level, text));
        }
    }

    fn finish(mut self) -> Vec<Section> {
        self.end_paragraph();
        self.sections
    }
}

/// Paragraphs are separated by blank lines; single line breaks are spaces.
fn plain(content: &str) -> Vec<Section> {
    let mut builder = Builder::default();
    for line in content.lines() {
        if line.trim().is_empty() {
            builder.end_paragraph();
        } else {
            builder.text(line);
            builder.text("\n");
        }
    }
    builder.finish()
}

fn markdown(content: &str) -> Vec<Section> {
    let mut builder = Builder::default();
    let mut heading: Option<(usize, String)> = None;
    for event in Parser::new(content) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                builder.end_paragraph();
                heading = Some((heading_level(level), String::new()));
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, text)) = heading.take() {
                    builder.heading(level, text);
                }
            }
            Event::Text(text) | Event::Code(text) => match &mut heading {
                Some((_, h)) => {
                    h.push(' ');
                    h.push_str(&text);
                }
                None => builder.text(&text),
            },
            Event::SoftBreak | Event::HardBreak => builder.text(" "),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::TableCell
                | TagEnd::BlockQuote(_),
            ) => builder.end_paragraph(),
            _ => {}
        }
    }
    builder.finish()
}

fn heading_level(level: HeadingLevel) -> usize {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// Page furniture and code that is never content.
const SKIPPED: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "nav", "header", "footer", "aside", "form",
    "button", "iframe", "select", "head",
];

/// Elements that end a paragraph before and after them.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "li",
    "td",
    "th",
    "tr",
    "section",
    "article",
    "main",
    "blockquote",
    "pre",
    "br",
    "dd",
    "dt",
    "ul",
    "ol",
    "table",
    "figure",
    "figcaption",
    "hr",
    "details",
    "summary",
];

fn html(content: &str) -> Extracted {
    let document = Html::parse_document(content);
    let title = document
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
        .find(|e| e.value().name() == "title")
        .map(|e| e.text().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|t| !t.is_empty());
    // The main content when the page marks it, the whole page otherwise.
    let root = ["main", "article"]
        .iter()
        .find_map(|name| {
            document
                .root_element()
                .descendants()
                .filter_map(ElementRef::wrap)
                .find(|e| e.value().name() == *name)
        })
        .unwrap_or_else(|| document.root_element());
    let mut builder = Builder::default();
    walk(root, &mut builder);
    Extracted { title, sections: builder.finish() }
}

fn walk(element: ElementRef<'_>, builder: &mut Builder) {
    for child in element.children() {
        match child.value() {
            Node::Text(text) => builder.text(text),
            Node::Element(e) => {
                let name = e.name();
                let Some(child) = ElementRef::wrap(child) else { continue };
                if SKIPPED.contains(&name) {
                    continue;
                }
                if let Some(level) = name.strip_prefix('h').and_then(|n| n.parse::<usize>().ok())
                    && (1..=6).contains(&level)
                {
                    builder.heading(level, child.text().collect());
                    continue;
                }
                let block = BLOCKS.contains(&name);
                if block {
                    builder.end_paragraph();
                }
                walk(child, builder);
                if block {
                    builder.end_paragraph();
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(headings: &[&str], paragraphs: &[&str]) -> Section {
        Section {
            headings: headings.iter().map(|h| (*h).to_owned()).collect(),
            paragraphs: paragraphs.iter().map(|p| (*p).to_owned()).collect(),
        }
    }

    #[test]
    fn plain_text_paragraphs_are_separated_by_blank_lines() {
        let text = "Returns are free\nwithin 30 days.\n\n  \nKeep the receipt.";
        assert_eq!(
            extract(text, Format::Text).sections,
            [section(&[], &["Returns are free within 30 days.", "Keep the receipt."])]
        );
    }

    #[test]
    fn markdown_headings_nest_and_formatting_is_dropped() {
        let text = "# Shipping\nWe ship **worldwide**.\n\n## Costs\n- EU: 5 EUR\n- US: `10 USD`\n\n# Returns\nSee [the form](https://example.com).";
        assert_eq!(
            extract(text, Format::Markdown).sections,
            [
                section(&["Shipping"], &["We ship worldwide."]),
                section(&["Shipping", "Costs"], &["EU: 5 EUR", "US: 10 USD"]),
                section(&["Returns"], &["See the form."]),
            ]
        );
    }

    #[test]
    fn html_keeps_the_content_and_drops_the_furniture() {
        let page = r#"<html><head><title> Help  centre </title><style>p{}</style></head><body>
            <nav><a href="/">Home</a></nav>
            <main><h1>Returns</h1><p>Send it back<br>within <b>30 days</b>.</p>
            <script>track()</script><h2>Refunds</h2><ul><li>Card: 5 days</li><li>Cash</li></ul></main>
            <footer>© Acme</footer></body></html>"#;
        let extracted = extract(page, Format::Html);
        assert_eq!(extracted.title.as_deref(), Some("Help centre"));
        assert_eq!(
            extracted.sections,
            [
                section(&["Returns"], &["Send it back", "within 30 days."]),
                section(&["Returns", "Refunds"], &["Card: 5 days", "Cash"]),
            ]
        );
    }
}
