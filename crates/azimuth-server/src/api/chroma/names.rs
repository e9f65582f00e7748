//! Chroma's name rules for tenants, databases and collections, with its exact messages.

use super::error::ChromaError;

/// Databases and collections: 3–512 characters from `[a-zA-Z0-9._-]`, starting and ending
/// alphanumeric, no `..`, not an IPv4 address. The message has no prefix (databases);
/// collections add `Validation error: name: `.
pub fn check_resource_name(name: &str) -> Result<(), String> {
    let ok_chars = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    let ends = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
    if !(3..=512).contains(&name.len())
        || !ok_chars
        || !ends(name.as_bytes().first())
        || !ends(name.as_bytes().last())
    {
        return Err(format!(
            "Expected a name containing 3-512 characters from [a-zA-Z0-9._-], starting and ending with a character in [a-zA-Z0-9]. Got: {name}"
        ));
    }
    if name.contains("..") {
        return Err(format!(
            "Expected a name that does not contains two consecutive periods (..). Got {name}"
        ));
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err(format!(
            "Expected a name that is not a valid ip address. Got {name}"
        ));
    }
    Ok(())
}

pub fn check_collection_name(name: &str) -> Result<(), ChromaError> {
    check_resource_name(name)
        .map_err(|m| ChromaError::invalid(format!("Validation error: name: {m}")))
}

pub fn check_database_name(name: &str) -> Result<(), ChromaError> {
    check_resource_name(name).map_err(ChromaError::invalid)
}

/// Tenants: at least 3 characters (the official server checks nothing else).
pub fn check_tenant_name(name: &str) -> Result<(), ChromaError> {
    if name.chars().count() < 3 {
        return Err(ChromaError::invalid(format!(
            "Validation error: name: Validation error: length [{{\"value\": String({name:?}), \"min\": Number(3)}}]"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_chroma_rules() {
        for ok in ["abc", "a.b-c_d", "A1b", &"x".repeat(512)] {
            assert!(check_resource_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "-abc",
            "abc-",
            "a b c",
            "ab..cd",
            "127.0.0.1",
            "é_abc",
            &"x".repeat(513),
        ] {
            assert!(check_resource_name(bad).is_err(), "{bad}");
        }
        assert!(check_resource_name("ab..cd")
            .unwrap_err()
            .contains("two consecutive periods"));
        assert!(check_resource_name("127.0.0.1")
            .unwrap_err()
            .contains("ip address"));
        assert!(check_tenant_name("a b").is_ok());
        assert!(check_tenant_name("ab").is_err());
    }
}
