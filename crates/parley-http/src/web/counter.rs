//! The reply box's counter: characters, and for SMS the parts a reply goes in and their
//! encoding, worded the same on the server-drawn desk and for the counter's live requests.

/// The counter's words for `text`: characters, and for SMS the parts it goes in and their
/// encoding (`parley-channels`' own segment count).
pub(crate) fn counter_words(text: &str, sms: bool) -> String {
    let chars = text.chars().count();
    let characters = if chars == 1 {
        "character"
    } else {
        "characters"
    };
    let limit = parley_app::conversations::agents::MAX_REPLY_CHARS;
    let over = if chars > limit {
        format!(" · over the {limit}-character limit")
    } else {
        String::new()
    };
    if !sms {
        return format!("{chars} {characters}{over}");
    }
    let (encoding, parts) = parley_app::conversations::send::sms_parts(text);
    let (encoding, why) = match encoding {
        parley_domain::Encoding::Gsm7 => ("GSM-7", ""),
        parley_domain::Encoding::Ucs2 => ("UCS-2", ": a character outside GSM-7 halves each part"),
    };
    let noun = if parts == 1 { "SMS part" } else { "SMS parts" };
    format!("{chars} {characters} · {parts} {noun} · {encoding}{why}{over}")
}

#[cfg(test)]
mod tests {
    use super::counter_words;

    #[test]
    fn the_counter_counts_as_the_sender_sends() {
        assert_eq!(counter_words("", true), "0 characters · 1 SMS part · GSM-7");
        assert_eq!(
            counter_words(&"a".repeat(160), true),
            "160 characters · 1 SMS part · GSM-7"
        );
        assert_eq!(
            counter_words(&"a".repeat(161), true),
            "161 characters · 2 SMS parts · GSM-7"
        );
        assert_eq!(
            counter_words("Pay £10 today 😀", true),
            "15 characters · 1 SMS part · UCS-2: a character outside GSM-7 halves each part"
        );
        assert_eq!(counter_words("héllo", false), "5 characters");
        assert!(counter_words(&"a".repeat(4097), false).ends_with("over the 4096-character limit"));
    }
}
