//! The YAML frontmatter of a `SKILL.md`, turned into the JSON object the skills extension
//! serves as the skill entry's `frontmatter`.
//!
//! The entry must be identical in content to what a YAML parser reads from the file (hosts
//! compare the two), so this reads a strict subset of YAML and refuses everything else with a
//! message, rather than guess: block mappings (nested by indentation), block sequences of
//! scalars, plain, single- and double-quoted scalars on one line, literal (`|`) and folded (`>`)
//! block scalars, and comments. Plain scalars resolve as in YAML 1.2's core schema (`null`,
//! `true`, `42`, `1.5` are not strings). Anchors, aliases, tags, flow collections and multi-line
//! plain or quoted scalars are refused.

use serde_json::{Map, Number, Value};

/// Splits a `SKILL.md` into its frontmatter (parsed) and reports what is wrong, if anything.
pub(crate) fn parse(text: &str) -> Result<Map<String, Value>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    if lines.next().map(str::trim_end) != Some("---") {
        return Err("does not begin with `---` (YAML frontmatter)".into());
    }
    let mut body = Vec::new();
    let mut closed = false;
    for line in lines {
        if line.trim_end() == "---" {
            closed = true;
            break;
        }
        body.push(line);
    }
    if !closed {
        return Err("its frontmatter has no closing `---` line".into());
    }
    let lines: Vec<Line> = body
        .iter()
        .enumerate()
        .map(|(i, text)| Line {
            number: i + 2,
            text,
        })
        .collect();
    let mut parser = Parser { lines, pos: 0 };
    let value = parser.block(0)?;
    match value {
        Value::Object(map) => Ok(map),
        Value::Null => Err("its frontmatter is empty".into()),
        _ => Err("its frontmatter is not a mapping of keys to values".into()),
    }
}

/// Checks the fields the Agent Skills specification requires: non-empty `name` and
/// `description` strings.
pub(crate) fn required(map: &Map<String, Value>) -> Result<(&str, &str), String> {
    let field = |key: &str| match map.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.as_str()),
        Some(Value::String(_)) => Err(format!("its frontmatter `{key}` is empty")),
        Some(_) => Err(format!("its frontmatter `{key}` is not a string")),
        None => Err(format!("its frontmatter has no `{key}`")),
    };
    Ok((field("name")?, field("description")?))
}

struct Line<'a> {
    /// 1-based line number in the file.
    number: usize,
    text: &'a str,
}

impl Line<'_> {
    fn indent(&self) -> usize {
        self.text.len() - self.text.trim_start_matches(' ').len()
    }

    /// Blank or a comment: carries nothing.
    fn is_empty(&self) -> bool {
        let t = self.text.trim();
        t.is_empty() || t.starts_with('#')
    }
}

struct Parser<'a> {
    lines: Vec<Line<'a>>,
    pos: usize,
}

impl Parser<'_> {
    fn skip_empty(&mut self) {
        while self.pos < self.lines.len() && self.lines[self.pos].is_empty() {
            self.pos += 1;
        }
    }

    fn error(&self, line: usize, message: &str) -> String {
        format!("frontmatter line {line}: {message}")
    }

    /// A block node whose lines are indented by at least `min` spaces: a mapping or a sequence.
    fn block(&mut self, min: usize) -> Result<Value, String> {
        self.skip_empty();
        let Some(first) = self.lines.get(self.pos) else {
            return Ok(Value::Null);
        };
        let indent = first.indent();
        if indent < min {
            return Ok(Value::Null);
        }
        if first.text.contains('\t') && first.text.trim_start_matches(' ').starts_with('\t') {
            return Err(self.error(first.number, "tabs cannot indent YAML"));
        }
        let rest = first.text[indent..].trim_end();
        if rest == "-" || rest.starts_with("- ") {
            self.sequence(indent)
        } else {
            self.mapping(indent)
        }
    }

    fn mapping(&mut self, indent: usize) -> Result<Value, String> {
        let mut map = Map::new();
        loop {
            self.skip_empty();
            let Some(line) = self.lines.get(self.pos) else {
                break;
            };
            let number = line.number;
            if line.indent() < indent {
                break;
            }
            if line.indent() > indent {
                return Err(self.error(number, "unexpected indentation"));
            }
            let text = line.text[indent..].trim_end();
            let (key, rest) = split_key(text).map_err(|e| self.error(number, &e))?;
            self.pos += 1;
            let value = self.value_after_key(rest, indent, number)?;
            if map.insert(key.clone(), value).is_some() {
                return Err(self.error(number, &format!("`{key}` is given twice")));
            }
        }
        Ok(Value::Object(map))
    }

    fn sequence(&mut self, indent: usize) -> Result<Value, String> {
        let mut items = Vec::new();
        loop {
            self.skip_empty();
            let Some(line) = self.lines.get(self.pos) else {
                break;
            };
            let number = line.number;
            if line.indent() < indent {
                break;
            }
            let text = line.text[indent..].trim_end();
            let is_item = text == "-" || text.starts_with("- ");
            if line.indent() == indent && !is_item {
                break;
            }
            if line.indent() > indent || !is_item {
                return Err(self.error(number, "expected a `- ` item of the list"));
            }
            let item = text[1..].trim_start();
            if item.is_empty() || split_key(item).is_ok() {
                return Err(self.error(
                    number,
                    "only scalars may be list items here (no nested lists or mappings)",
                ));
            }
            self.pos += 1;
            items.push(scalar(item).map_err(|e| self.error(number, &e))?);
        }
        Ok(Value::Array(items))
    }

    /// The value of `key:` whose remaining text is `rest`: inline, a block scalar, or the block
    /// on the following, more indented lines.
    fn value_after_key(
        &mut self,
        rest: &str,
        indent: usize,
        number: usize,
    ) -> Result<Value, String> {
        let rest = strip_comment(rest);
        if rest.is_empty() {
            // A sequence may sit at the key's own indentation, as YAML allows.
            self.skip_empty();
            let next = self.lines.get(self.pos);
            let nested = next.is_some_and(|l| {
                let t = l.text.trim_start();
                l.indent() > indent || (l.indent() == indent && (t == "-" || t.starts_with("- ")))
            });
            return if nested {
                self.block(indent)
            } else {
                Ok(Value::Null)
            };
        }
        if let Some(header) = rest.strip_prefix('|') {
            return self.block_scalar(header, indent, number, false);
        }
        if let Some(header) = rest.strip_prefix('>') {
            return self.block_scalar(header, indent, number, true);
        }
        let value = scalar(rest).map_err(|e| self.error(number, &e))?;
        // A continuation line would make a multi-line scalar, which this reader refuses.
        self.skip_empty();
        if let Some(next) = self.lines.get(self.pos)
            && next.indent() > indent
        {
            return Err(self.error(
                next.number,
                "multi-line values are not supported: keep the value on one line, or use `|` or `>`",
            ));
        }
        Ok(value)
    }

    /// `|` (literal) or `>` (folded) with an optional chomping indicator (`-` strip, `+` keep).
    fn block_scalar(
        &mut self,
        header: &str,
        indent: usize,
        number: usize,
        folded: bool,
    ) -> Result<Value, String> {
        let chomp = match header.trim() {
            "" => Chomp::Clip,
            "-" => Chomp::Strip,
            "+" => Chomp::Keep,
            other => {
                return Err(self.error(
                    number,
                    &format!("block scalar indicator `{other}` is not supported"),
                ));
            }
        };
        let mut raw: Vec<&str> = Vec::new();
        let mut block_indent = None;
        while let Some(line) = self.lines.get(self.pos) {
            let blank = line.text.trim().is_empty();
            if !blank && line.indent() <= indent {
                break;
            }
            if !blank && block_indent.is_none() {
                block_indent = Some(line.indent());
            }
            if let Some(b) = block_indent
                && !blank
                && line.indent() < b
            {
                return Err(self.error(line.number, "less indented than the block's first line"));
            }
            raw.push(line.text);
            self.pos += 1;
        }
        let b = block_indent.unwrap_or(indent + 1);
        let content: Vec<&str> = raw.iter().map(|l| l.get(b..).unwrap_or("")).collect();
        let mut text = if folded {
            fold(&content)
        } else {
            content.join("\n")
        };
        let body_len = text.trim_end_matches('\n').len();
        let trailing = content.len()
            - content
                .iter()
                .rposition(|l| !l.is_empty())
                .map_or(0, |p| p + 1);
        text.truncate(body_len);
        match chomp {
            Chomp::Strip => {}
            Chomp::Clip if body_len > 0 => text.push('\n'),
            Chomp::Clip => {}
            Chomp::Keep => {
                text.push('\n');
                text.push_str(&"\n".repeat(trailing));
            }
        }
        Ok(Value::String(text))
    }
}

#[derive(Clone, Copy)]
enum Chomp {
    Clip,
    Strip,
    Keep,
}

/// Folds lines as YAML's `>` does for text without more-indented lines: lines of a paragraph
/// join with a space, and each blank line between paragraphs becomes a newline.
fn fold(lines: &[&str]) -> String {
    let mut out = String::new();
    let mut blanks = 0;
    let mut started = false;
    for line in lines {
        if line.is_empty() {
            blanks += 1;
            continue;
        }
        if started {
            if blanks == 0 {
                out.push(' ');
            } else {
                out.push_str(&"\n".repeat(blanks));
            }
        }
        blanks = 0;
        started = true;
        out.push_str(line);
    }
    out
}

/// `key: rest` of a mapping line (the key plain or quoted).
fn split_key(text: &str) -> Result<(String, &str), String> {
    if let Some(quote @ ('"' | '\'')) = text.chars().next() {
        let (key, len) = quoted(text, quote)?;
        let after = &text[len..];
        return match after.strip_prefix(':') {
            Some(rest) if rest.is_empty() || rest.starts_with(' ') => Ok((key, rest)),
            _ => Err("expected `:` after the quoted key".into()),
        };
    }
    let colon = text
        .find(": ")
        .or_else(|| text.ends_with(':').then(|| text.len() - 1))
        .ok_or_else(|| format!("expected `key: value`, found `{text}`"))?;
    let key = text[..colon].trim_end();
    if key.is_empty() || key.starts_with(['-', '#', '&', '*', '!', '[', '{', '?', '|', '>']) {
        return Err(format!("`{key}` is not a key this reader supports"));
    }
    Ok((key.to_string(), &text[colon + 1..]))
}

/// Drops a trailing ` # comment` outside quotes.
fn strip_comment(text: &str) -> &str {
    let text = text.trim();
    if text.starts_with(['"', '\'']) {
        return text;
    }
    match text.find(" #") {
        Some(i) => text[..i].trim_end(),
        None if text.starts_with('#') => "",
        None => text,
    }
}

/// One inline scalar: quoted, or plain (resolved by the core schema).
fn scalar(text: &str) -> Result<Value, String> {
    let text = strip_comment(text);
    if let Some(quote @ ('"' | '\'')) = text.chars().next() {
        let (value, len) = quoted(text, quote)?;
        let after = strip_comment(&text[len..]);
        if !after.is_empty() {
            return Err(format!("unexpected `{after}` after the quoted value"));
        }
        return Ok(Value::String(value));
    }
    if text.starts_with(['[', '{', '&', '*', '!', '%', '@', '`']) {
        return Err(format!(
            "`{text}`: flow collections, anchors, aliases and tags are not supported; quote the value"
        ));
    }
    if text.contains(": ") || text.ends_with(':') {
        return Err(format!(
            "`{text}`: a plain value cannot contain `: `; quote it"
        ));
    }
    Ok(resolve_plain(text))
}

/// YAML 1.2 core schema resolution of a plain scalar.
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let digits = |s: &str, radix: u32| !s.is_empty() && s.chars().all(|c| c.is_digit(radix));
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits(unsigned, 10) {
        if let Ok(n) = text.parse::<i64>() {
            return Value::Number(n.into());
        }
        if let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64) {
            return Value::Number(n);
        }
    }
    for (prefix, radix) in [("0x", 16), ("0o", 8)] {
        if let Some(rest) = text.strip_prefix(prefix)
            && digits(rest, radix)
            && let Ok(n) = i64::from_str_radix(rest, radix)
        {
            return Value::Number(n.into());
        }
    }
    if is_float(unsigned)
        && let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64)
    {
        return Value::Number(n);
    }
    Value::String(text.to_string())
}

/// `[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?` or `\.[0-9]+(...)?` (the sign already removed).
fn is_float(s: &str) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let all_digits = |x: &str| x.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok = all_digits(int)
        && frac.is_none_or(all_digits)
        && (!int.is_empty() || frac.is_some_and(|f| !f.is_empty()));
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && all_digits(e)
    });
    mantissa_ok && exponent_ok && (frac.is_some() || exponent.is_some())
}

/// A quoted scalar at the start of `text`: its value and the length of its source.
fn quoted(text: &str, quote: char) -> Result<(String, usize), String> {
    let mut out = String::new();
    let mut chars = text.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        if c == quote {
            if quote == '\'' && chars.peek().is_some_and(|&(_, n)| n == '\'') {
                chars.next();
                out.push('\'');
                continue;
            }
            return Ok((out, i + 1));
        }
        if c == '\\' && quote == '"' {
            let Some((_, e)) = chars.next() else { break };
            out.push(match e {
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                '0' => '\0',
                '"' | '\\' | '/' | ' ' => e,
                'u' => {
                    let hex: String = (0..4)
                        .filter_map(|_| chars.next().map(|(_, h)| h))
                        .collect();
                    u32::from_str_radix(&hex, 16)
                        .ok()
                        .and_then(char::from_u32)
                        .ok_or_else(|| format!("bad escape `\\u{hex}`"))?
                }
                other => return Err(format!("unsupported escape `\\{other}`")),
            });
            continue;
        }
        out.push(c);
    }
    Err("a quoted value must end on the same line".into())
}

#[cfg(test)]
mod tests;
