//! Checks every request before routing: the path decodes to UTF-8, a declared body length fits
//! the limit (answered at once, without reading the body), and the common query parameters
//! (`wait`, `timeout`, `ordering`, `consistency`) have valid values.

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::reply::ApiError;

/// How far past the body limit a declared length may go before it is refused unread.
const EARLY_REJECT_MARGIN: u64 = 4 << 20;
use crate::AppState;

fn percent_decodes_to_utf8(s: &str) -> bool {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = hex {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).is_ok()
}

fn check_param(key: &str, value: &str) -> Result<(), String> {
    let ok = match key {
        "wait" => matches!(value, "true" | "false"),
        "timeout" => value.parse::<u64>().is_ok(),
        "ordering" => matches!(value, "weak" | "medium" | "strong"),
        "consistency" => {
            value.parse::<u64>().is_ok() || matches!(value, "majority" | "quorum" | "all")
        }
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("query parameter {key}={value:?} is not valid"))
    }
}

fn query_pairs(q: &str) -> impl Iterator<Item = (String, String)> + '_ {
    q.split('&').filter(|p| !p.is_empty()).map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        (k.to_string(), v.replace('+', " "))
    })
}

pub async fn check(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !percent_decodes_to_utf8(req.uri().path()) {
        return ApiError::bad_request("the request path is not valid UTF-8 once percent-decoded")
            .into_response();
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // A body declared far beyond the limit is refused before reading it (a client that sends
    // a few bytes and a huge Content-Length would otherwise hold the connection). Bodies near
    // the limit are read and refused by the body limit, so the client sees the answer.
    let limit = state.config.max_body_bytes as u64;
    if declared.is_some_and(|n| n > limit.saturating_add(EARLY_REJECT_MARGIN)) {
        let e = ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message: format!(
                "Bad request: the request body is larger than the limit of {} bytes",
                state.config.max_body_bytes
            ),
        };
        return e.into_response();
    }
    if let Some(q) = req.uri().query() {
        for (k, v) in query_pairs(q) {
            if let Err(msg) = check_param(&k, &v) {
                return ApiError::bad_request(msg).into_response();
            }
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_params() {
        assert!(percent_decodes_to_utf8("/collections/a%20b"));
        assert!(percent_decodes_to_utf8("/collections/%C3%A9"));
        assert!(!percent_decodes_to_utf8("/collections/%ff%fe"));
        assert!(check_param("wait", "true").is_ok());
        for (k, v) in [
            ("wait", ""),
            ("timeout", "-1"),
            ("timeout", "1e999"),
            ("ordering", "bogus"),
            ("consistency", "bogus"),
        ] {
            assert!(check_param(k, v).is_err(), "{k}={v}");
        }
    }
}
