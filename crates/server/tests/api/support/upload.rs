//! File uploads as a browser sends them: `multipart/form-data` with `file` parts and an
//! optional `text`, built by hand so the tests need nothing more of their HTTP client.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::{Client, Visitor};

const BOUNDARY: &str = "----switchboard-test-boundary-7d1f";

/// A file to send: its name and bytes.
pub type Part<'a> = (&'a str, &'a [u8]);

/// The `Content-Type` and body of a form with `files` and, if given, `text`.
pub fn form(files: &[Part<'_>], text: Option<&str>) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    if let Some(text) = text {
        body.extend(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n{text}\r\n"
            )
            .bytes(),
        );
    }
    for (name, bytes) in files {
        let head = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        );
        body.extend(head.bytes());
        body.extend_from_slice(bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{BOUNDARY}--\r\n").bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

/// Sends the form to `request`.
async fn send_form(
    client: &Client,
    request: reqwest::RequestBuilder,
    files: &[Part<'_>],
    text: Option<&str>,
) -> (StatusCode, Value) {
    let (content_type, body) = form(files, text);
    client.send(request.header("content-type", content_type).body(body)).await
}

impl Client {
    /// An operator sends files into `conversation`.
    pub async fn upload(
        &self,
        conversation: &str,
        files: &[Part<'_>],
        text: Option<&str>,
    ) -> (StatusCode, Value) {
        let path = format!("/api/v1/conversations/{conversation}/attachments");
        send_form(self, self.request(Method::POST, &path), files, text).await
    }

    /// Downloads `url` (a path of this server): status, headers and bytes.
    pub async fn download(
        &self,
        request: reqwest::RequestBuilder,
    ) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let response = request.send().await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        (status, headers, response.bytes().await.unwrap().to_vec())
    }
}

impl Visitor {
    /// The visitor sends files into their conversation.
    pub async fn upload(&self, files: &[Part<'_>], text: Option<&str>) -> (StatusCode, Value) {
        send_form(&self.client, self.request(Method::POST, "/attachments"), files, text).await
    }

    /// The visitor downloads `url` (a path their messages name) with their token.
    pub async fn download(&self, url: &str) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let request = self.client.request(Method::GET, url).bearer_auth(&self.token);
        self.client.download(request).await
    }
}
