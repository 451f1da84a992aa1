#include "cli/loadgen_http.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <memory>

namespace facefuse::cli::loadgen {
namespace {

Error not_loopback(const std::string& url, const std::string& why) {
    return make_error(ErrorCode::kUsage,
                      "--url " + url + ": " + why +
                          ". Load tests must only target this machine: use http://127.0.0.1:PORT, "
                          "http://localhost:PORT or http://[::1]:PORT");
}

std::string url_part(CURLU* url, CURLUPart part, unsigned flags = 0) {
    char* text = nullptr;
    if (curl_url_get(url, part, &text, flags) != CURLUE_OK || !text) return {};
    std::string out(text);
    curl_free(text);
    return out;
}

bool is_loopback_host(std::string host) {
    std::transform(host.begin(), host.end(), host.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    // libcurl (>= 7.78) answers "localhost" itself with a loopback address, never via DNS or
    // /etc/hosts, so the name cannot be pointed elsewhere.
    if (host == "localhost" || host == "[::1]") return true;
    in_addr v4{};
    // inet_pton takes only the dotted quad, so "127.1" or "0x7f.1" spellings are refused
    // rather than second-guessed.
    return inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

size_t append_body(char* data, size_t size, size_t count, void* out) {
    static_cast<std::string*>(out)->append(data, size * count);
    return size * count;
}

}  // namespace

Result<std::string> loopback_base_url(const std::string& url) {
    std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> parsed(curl_url(), curl_url_cleanup);
    if (!parsed || curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK)
        return not_loopback(url, "not a URL");
    const std::string scheme = url_part(parsed.get(), CURLUPART_SCHEME);
    if (scheme != "http")
        return not_loopback(url, "only http:// is supported (the service speaks plain HTTP)");
    const std::string host = url_part(parsed.get(), CURLUPART_HOST);
    if (!is_loopback_host(host))
        return not_loopback(url, "host '" + host + "' is not a loopback address");
    if (!url_part(parsed.get(), CURLUPART_USER).empty())
        return not_loopback(url, "user names are not supported");
    const std::string path = url_part(parsed.get(), CURLUPART_PATH);
    if ((!path.empty() && path != "/") || !url_part(parsed.get(), CURLUPART_QUERY).empty() ||
        !url_part(parsed.get(), CURLUPART_FRAGMENT).empty())
        return not_loopback(url, "give the server's root only, without a path or query");
    const std::string port = url_part(parsed.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
    return "http://" + host + ":" + port;
}

void init_curl() {
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

Connection::Connection(std::string base_url, long timeout_ms, const std::string& bearer_token)
    : curl_(curl_easy_init()), base_(std::move(base_url)) {
    curl_easy_setopt(curl_, CURLOPT_NOPROXY, "*");  // never via a proxy: see the header
    curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(curl_, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM-based timeouts
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl_, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, append_body);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &body_);
    // Without this, curl sends "Expect: 100-continue" for large bodies and waits up to a
    // second for the interim answer: that wait would be measured as submit latency.
    headers_ = curl_slist_append(headers_, "Expect:");
    if (!bearer_token.empty()) headers_ = curl_slist_append(headers_, ("Authorization: Bearer " + bearer_token).c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
}

Connection::~Connection() {
    curl_easy_cleanup(curl_);
    curl_mime_free(form_);
    curl_slist_free_all(headers_);
}

void Connection::set_form(const std::string& source, const std::string& target,
                          const std::string& options) {
    curl_mime_free(form_);
    form_ = curl_mime_init(curl_);
    auto add = [&](const char* name, const std::string& data, const char* filename,
                   const char* type) {
        curl_mimepart* part = curl_mime_addpart(form_);
        curl_mime_name(part, name);
        curl_mime_data(part, data.data(), data.size());  // copied once here, resent from memory
        if (filename) curl_mime_filename(part, filename);
        curl_mime_type(part, type);
    };
    if (!source.empty()) add("source", source, "source.jpg", "application/octet-stream");
    add("target", target, "target.jpg", "application/octet-stream");
    add("options", options, nullptr, "application/json");
}

Reply Connection::submit() {
    curl_easy_setopt(curl_, CURLOPT_URL, (base_ + "/v1/swaps").c_str());
    curl_easy_setopt(curl_, CURLOPT_MIMEPOST, form_);
    return perform();
}

Reply Connection::get(const std::string& path) {
    curl_easy_setopt(curl_, CURLOPT_URL, (base_ + path).c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
    return perform();
}

Reply Connection::perform() {
    body_.clear();
    Reply reply;
    const auto start = std::chrono::steady_clock::now();
    const CURLcode code = curl_easy_perform(curl_);
    reply.ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (code != CURLE_OK) {
        reply.error = curl_easy_strerror(code);  // a bounded set of messages: fit for counting
        return reply;
    }
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &reply.status);
    reply.body = std::move(body_);
    return reply;
}

}  // namespace facefuse::cli::loadgen
