//! A printable passport card (SVG, ID-1 proportions scaled to A6 width): the QR code on
//! the left, the disclosed facts in words on the right, with the card's dates. What the
//! card says in words is exactly what the QR code discloses, nothing more.

use super::qr::Qr;

/// One line of the card.
pub struct Line {
    /// The fact in words (`claims::words::describe`).
    pub words: String,
    /// Who attested it, e.g. the issuer's registry id.
    pub attested_by: String,
}

/// What the card prints around the QR code.
pub struct Printed<'a> {
    pub holder: &'a str,
    pub issued_on: &'a str,
    pub valid_until: &'a str,
    pub lines: &'a [Line],
}

fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&apos;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// Splits `text` into lines of at most `width` characters, at spaces where it can.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The card as an SVG document (units: millimetres).
pub fn svg(qr: &Qr, printed: &Printed) -> String {
    const W: f64 = 148.0;
    let qr_size = 64.0;
    let text_x = qr_size + 10.0;
    let mut body = String::new();
    let mut y = 22.0;
    let text = |body: &mut String, y: f64, size: f64, weight: &str, s: &str| {
        body.push_str(&format!(
            "<text x=\"{text_x}\" y=\"{y:.1}\" font-size=\"{size}\" font-weight=\"{weight}\">{}</text>",
            escape(s)
        ));
    };
    for fact in printed.lines {
        for (i, l) in wrap(&fact.words, 34).iter().enumerate() {
            text(&mut body, y, 3.4, if i == 0 { "bold" } else { "normal" }, l);
            y += 4.4;
        }
        text(
            &mut body,
            y,
            2.6,
            "normal",
            &format!("attested by {}", fact.attested_by),
        );
        y += 6.0;
    }
    let height = (y + 8.0).max(qr_size + 32.0);
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}mm\" height=\"{height:.1}mm\" viewBox=\"0 0 {W} {height:.1}\" font-family=\"sans-serif\">\
<rect x=\"0.5\" y=\"0.5\" width=\"{w1}\" height=\"{h1:.1}\" rx=\"4\" fill=\"#fff\" stroke=\"#333\" stroke-width=\"0.5\"/>\
<text x=\"6\" y=\"10\" font-size=\"5\" font-weight=\"bold\">Rekam health passport</text>\
{qr}\
<text x=\"6\" y=\"{meta_y:.1}\" font-size=\"2.6\">Issued {issued}, valid until {until}</text>\
<text x=\"6\" y=\"{holder_y:.1}\" font-size=\"2.2\">Holder {holder}</text>\
<text x=\"6\" y=\"{note_y:.1}\" font-size=\"2.2\">Verify: rekam passport verify (checks the proofs, then the chain)</text>\
{body}</svg>\n",
        w1 = W - 1.0,
        h1 = height - 1.0,
        qr = qr.svg_group(4.0, 14.0, qr_size),
        meta_y = qr_size + 18.0,
        holder_y = qr_size + 21.5,
        note_y = height - 3.0,
        issued = escape(printed.issued_on),
        until = escape(printed.valid_until),
        holder = escape(printed.holder),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_and_escapes() {
        assert_eq!(
            wrap("Immunization 0: Influenza, seasonal (completed)", 20),
            ["Immunization 0:", "Influenza, seasonal", "(completed)"]
        );
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
