//! The analyzer for every text field: words of any alphabet, lower-cased and
//! folded to ASCII (`Programação` → `programacao`, `Việt` → `viet`), and runs of
//! Chinese, Japanese or Korean characters as overlapping pairs (`工程师` → `工程`,
//! `程师`), since those scripts put no spaces between words.

use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, TextAnalyzer, Token, TokenStream, Tokenizer,
};

/// The name the analyzer is registered under in the index.
pub const ANALYZER: &str = "jobboard";

/// Builds the analyzer.
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(JobTokenizer::default())
        .filter(RemoveLongFilter::limit(48))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// Whether a character belongs to a script written without spaces.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0x20000..=0x2FA1F) // CJK extensions B and later
}

#[derive(Clone, Default)]
pub struct JobTokenizer {
    tokens: Vec<Token>,
}

pub struct JobTokenStream<'a> {
    tokens: &'a mut [Token],
    next: usize,
}

impl TokenStream for JobTokenStream<'_> {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    // Called only after `advance` returned true, as the trait requires.
    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

impl Tokenizer for JobTokenizer {
    type TokenStream<'a> = JobTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> JobTokenStream<'a> {
        self.tokens.clear();
        split(text, &mut self.tokens);
        JobTokenStream {
            tokens: &mut self.tokens,
            next: 0,
        }
    }
}

fn push(out: &mut Vec<Token>, text: &str, from: usize, to: usize) {
    out.push(Token {
        offset_from: from,
        offset_to: to,
        position: out.len(),
        text: text[from..to].to_string(),
        position_length: 1,
    });
}

/// Splits text into word and CJK-pair tokens.
fn split(text: &str, out: &mut Vec<Token>) {
    let mut word: Option<usize> = None;
    let mut cjk: Vec<(usize, usize)> = Vec::new();
    let flush_cjk = |cjk: &mut Vec<(usize, usize)>, out: &mut Vec<Token>| {
        match cjk.len() {
            0 => {}
            1 => push(out, text, cjk[0].0, cjk[0].1),
            _ => {
                for pair in cjk.windows(2) {
                    push(out, text, pair[0].0, pair[1].1);
                }
            }
        }
        cjk.clear();
    };
    let mut iter = text.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        let end = i + c.len_utf8();
        if is_cjk(c) {
            if let Some(start) = word.take() {
                push(out, text, start, i);
            }
            cjk.push((i, end));
        } else if c.is_alphanumeric() {
            flush_cjk(&mut cjk, out);
            word.get_or_insert(i);
        } else if (c == '+' || c == '#') && word.is_some() {
            // c++, c#, f#: keep the signs that make the word.
            if !matches!(iter.peek(), Some((_, n)) if n.is_alphanumeric()) {
                let start = word.take().unwrap_or(i);
                let mut stop = end;
                while let Some((j, n)) = iter.peek().copied() {
                    if n == '+' || n == '#' {
                        stop = j + n.len_utf8();
                        iter.next();
                    } else {
                        break;
                    }
                }
                push(out, text, start, stop);
            }
        } else {
            if let Some(start) = word.take() {
                push(out, text, start, i);
            }
            flush_cjk(&mut cjk, out);
        }
    }
    if let Some(start) = word.take() {
        push(out, text, start, text.len());
    }
    flush_cjk(&mut cjk, out);
}

/// The analyzed tokens of a text, as the index stores them.
pub fn tokens(text: &str) -> Vec<String> {
    positioned_tokens(text)
        .into_iter()
        .map(|(_, t)| t)
        .collect()
}

/// The analyzed tokens of a text with their positions, as the index stores
/// them: a token the analyzer drops (over 48 bytes) leaves a gap, which a
/// phrase must keep to match.
pub fn positioned_tokens(text: &str) -> Vec<(usize, String)> {
    let mut analyzer = analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        let token = stream.token();
        out.push((token.position, token.text.clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_words_are_folded() {
        assert_eq!(
            tokens("Programação em São Paulo"),
            vec!["programacao", "em", "sao", "paulo"]
        );
        assert_eq!(
            tokens("Lập trình viên Việt Nam"),
            vec!["lap", "trinh", "vien", "viet", "nam"]
        );
        assert_eq!(
            tokens("C++ and C# or node.js"),
            vec!["c++", "and", "c#", "or", "node", "js"]
        );
    }

    #[test]
    fn a_dropped_long_word_leaves_a_gap() {
        let long = "b".repeat(60);
        assert_eq!(
            positioned_tokens(&format!("first {long} c")),
            vec![(0, "first".to_string()), (2, "c".to_string())]
        );
    }

    #[test]
    fn cjk_runs_become_pairs() {
        assert_eq!(tokens("iOS工程師"), vec!["ios", "工程", "程師"]);
        assert_eq!(tokens("徵 Android"), vec!["徵", "android"]);
    }
}
