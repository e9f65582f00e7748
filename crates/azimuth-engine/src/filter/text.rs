//! The one full-text tokenizer used by `text`, `text_any` and `phrase` matches and by text
//! indexes: split on every character that is not alphanumeric (Unicode-aware, `_` splits
//! too) and lowercase each token.

/// The lowercased word tokens of `text`, in order.
pub fn tokenize(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Every query token is a document token (order-free). An empty query matches nothing.
pub fn matches_all(document: &str, query: &str) -> bool {
    let query = tokenize(query);
    let doc = tokenize(document);
    !query.is_empty() && query.iter().all(|q| doc.contains(q))
}

/// At least one query token is a document token.
pub fn matches_any(document: &str, query: &str) -> bool {
    let doc = tokenize(document);
    tokenize(query).iter().any(|q| doc.contains(q))
}

/// The query tokens appear consecutively and in order. An empty phrase matches nothing.
pub fn matches_phrase(document: &str, phrase: &str) -> bool {
    let phrase = tokenize(phrase);
    let doc = tokenize(document);
    !phrase.is_empty() && doc.windows(phrase.len()).any(|w| w == phrase.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizes_unicode_words() {
        assert_eq!(
            tokenize("Hello, World_wide-web 42x"),
            ["hello", "world", "wide", "web", "42x"]
        );
        assert_eq!(tokenize("Größe ÜBER straße"), ["größe", "über", "straße"]);
        assert_eq!(tokenize("日本語 テキスト"), ["日本語", "テキスト"]);
        assert!(tokenize(" ,.;_ ").is_empty());
    }

    #[test]
    fn text_text_any_phrase() {
        let doc = "The Vector database, fast vector search";
        assert!(!matches_all(doc, "vector DB database"));
        assert!(matches_all(doc, "search VECTOR"));
        assert!(!matches_all(doc, "vec"));
        assert!(!matches_all(doc, "  "));
        assert!(matches_any(doc, "nothing search"));
        assert!(!matches_any(doc, "nothing else"));
        assert!(!matches_any(doc, ""));
        assert!(matches_phrase(doc, "vector DATABASE"));
        assert!(matches_phrase(doc, "fast vector search"));
        assert!(!matches_phrase(doc, "database vector"));
        assert!(!matches_phrase(doc, "vector search fast"));
        assert!(!matches_phrase(doc, ""));
        assert!(!matches_phrase("a", "a b"));
    }
}
