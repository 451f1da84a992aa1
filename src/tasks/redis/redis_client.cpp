#include "tasks/redis/redis_client.hpp"

#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <optional>
#include <utility>

namespace facefuse::tasks::redis {
namespace {

Error unavailable(std::string message) {
    return make_error(ErrorCode::kUnavailable, std::move(message));
}

timeval to_timeval(std::chrono::milliseconds ms) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
    return tv;
}

// hiredis writes with write(2): a server that closed the connection would kill the process with
// SIGPIPE. Blocking the signal in this thread for the call and discarding one it raised keeps
// the process's own signal dispositions untouched.
class SigpipeGuard {
  public:
    SigpipeGuard() {
        sigemptyset(&pipe_);
        sigaddset(&pipe_, SIGPIPE);
        sigset_t pending;
        sigemptyset(&pending);
        sigpending(&pending);
        was_pending_ = sigismember(&pending, SIGPIPE) == 1;
        pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
    }
    ~SigpipeGuard() {
        if (!was_pending_) {
            const timespec zero{};
            while (sigtimedwait(&pipe_, nullptr, &zero) == -1 && errno == EINTR) {
            }
        }
        pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }
    SigpipeGuard(const SigpipeGuard&) = delete;
    SigpipeGuard& operator=(const SigpipeGuard&) = delete;

  private:
    sigset_t pipe_{}, old_{};
    bool was_pending_ = false;
};

RedisReply convert(const redisReply* r) {
    RedisReply out;
    switch (r->type) {
        case REDIS_REPLY_STRING:
        case REDIS_REPLY_ERROR:
            out.type = RedisReply::Type::kString;
            out.str.assign(r->str, r->len);
            break;
        case REDIS_REPLY_STATUS:
            out.type = RedisReply::Type::kStatus;
            out.str.assign(r->str, r->len);
            break;
        case REDIS_REPLY_INTEGER:
            out.type = RedisReply::Type::kInteger;
            out.integer = r->integer;
            break;
        case REDIS_REPLY_ARRAY:
            out.type = RedisReply::Type::kArray;
            out.elements.reserve(r->elements);
            for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
            break;
        default:
            break;  // REDIS_REPLY_NIL
    }
    return out;
}

// Error replies that mean "not now" (or "not with these credentials") rather than "wrong
// request": the caller retries later. The code is the reply's first word.
bool transient_error_reply(std::string_view text) {
    const std::string_view code = text.substr(0, text.find(' '));
    for (std::string_view transient :
         {"LOADING", "BUSY", "MASTERDOWN", "READONLY", "TRYAGAIN", "CLUSTERDOWN", "OOM", "MISCONF",
          "NOREPLICAS", "NOAUTH", "WRONGPASS"}) {
        if (code == transient) return true;
    }
    return false;
}

}  // namespace

long long RedisReply::as_int() const {
    if (type == Type::kInteger) return integer;
    long long value = 0;
    std::from_chars(str.data(), str.data() + str.size(), value);
    return value;
}

LuaScript::LuaScript(std::string source) : source_(std::move(source)) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(source_.data(), source_.size(), md, &len, EVP_sha1(), nullptr);
    static constexpr char kHex[] = "0123456789abcdef";
    for (unsigned int i = 0; i < len; ++i) {
        sha1_.push_back(kHex[md[i] >> 4]);
        sha1_.push_back(kHex[md[i] & 15]);
    }
}

struct RedisClient::Pool {
    RedisUrl url;
    RedisOptions options;
    std::string endpoint;
    std::mutex mu;
    std::condition_variable cv;
    std::vector<redisContext*> conns;  // nullptr: not connected (yet, or since a failure)
    std::vector<size_t> idle;          // indexes into conns that no call is using

    ~Pool() {
        for (redisContext* c : conns)
            if (c != nullptr) redisFree(c);
    }

    // Borrows a connection slot for one call; gives it back on destruction.
    class Slot {
      public:
        Slot(Pool* pool, size_t index) : pool_(pool), index_(index) {}
        Slot(Slot&& o) noexcept : pool_(std::exchange(o.pool_, nullptr)), index_(o.index_) {}
        Slot(const Slot&) = delete;
        Slot& operator=(const Slot&) = delete;
        Slot& operator=(Slot&&) = delete;
        ~Slot() {
            if (pool_ == nullptr) return;
            {
                std::lock_guard lock(pool_->mu);
                pool_->idle.push_back(index_);
            }
            pool_->cv.notify_one();
        }
        redisContext*& ctx() { return pool_->conns[index_]; }

      private:
        Pool* pool_;
        size_t index_;
    };

    Result<Slot> checkout() {
        std::unique_lock lock(mu);
        const auto wait = options.connect_timeout + options.command_timeout;
        if (!cv.wait_for(lock, wait, [&] { return !idle.empty(); })) {
            return unavailable("all " + std::to_string(conns.size()) + " connections to Redis at " +
                               endpoint + " stayed busy for " + std::to_string(wait.count()) +
                               " ms; retry later or raise the pool size");
        }
        const size_t index = idle.back();
        idle.pop_back();
        return Slot(this, index);
    }

    Error io_error(redisContext*& ctx, std::chrono::milliseconds timeout) {
        const std::string why = ctx->errstr;
        redisFree(ctx);
        ctx = nullptr;  // re-made on the next call through this slot
        if (why.find("temporarily unavailable") != std::string::npos ||
            why.find("timed out") != std::string::npos) {
            return unavailable("Redis at " + endpoint + " did not answer within " +
                               std::to_string(timeout.count()) + " ms; retry later");
        }
        return unavailable("lost the connection to Redis at " + endpoint + ": " + why +
                           "; retry later");
    }

    // Sends AUTH/SELECT on a fresh connection. Redis's error texts never echo the password.
    Status handshake(redisContext*& ctx, const std::vector<std::string>& argv) {
        std::vector<const char*> ptrs;
        std::vector<size_t> lens;
        for (const auto& a : argv) {
            ptrs.push_back(a.data());
            lens.push_back(a.size());
        }
        auto* r = static_cast<redisReply*>(
            redisCommandArgv(ctx, static_cast<int>(argv.size()), ptrs.data(), lens.data()));
        if (r == nullptr) return io_error(ctx, options.command_timeout);
        const bool failed = r->type == REDIS_REPLY_ERROR;
        const std::string text = failed ? std::string(r->str, r->len) : "";
        freeReplyObject(r);
        if (!failed) return Status::Ok();
        redisFree(ctx);
        ctx = nullptr;
        return unavailable("Redis at " + endpoint + " refused " + argv[0] + ": " + text +
                           "; check the credentials and database in the Redis URL");
    }

    // A connection is usable when it has no error and the server has not closed it while it
    // sat idle (a restart, `timeout` in redis.conf): an idle socket that polls readable holds
    // the server's EOF, since nothing else is ever sent unasked. Checking first means a command
    // is never half-sent on a dead socket, so nothing is executed twice.
    Status ensure_connected(redisContext*& ctx) {
        if (ctx != nullptr) {
            pollfd p{ctx->fd, POLLIN, 0};
            if (ctx->err != 0 || ::poll(&p, 1, 0) != 0) {
                redisFree(ctx);
                ctx = nullptr;
            }
        }
        if (ctx != nullptr) return Status::Ok();
        ctx = redisConnectWithTimeout(url.host.c_str(), url.port,
                                      to_timeval(options.connect_timeout));
        if (ctx == nullptr) return unavailable("out of memory connecting to Redis at " + endpoint);
        if (ctx->err != 0) {
            const std::string why = ctx->errstr;
            redisFree(ctx);
            ctx = nullptr;
            return unavailable("cannot connect to Redis at " + endpoint + ": " + why +
                               "; check that it is running and reachable, then retry");
        }
        redisSetTimeout(ctx, to_timeval(options.command_timeout));
        redisEnableKeepAlive(ctx);
        if (!url.password.empty()) {
            std::vector<std::string> auth{"AUTH"};
            if (!url.user.empty()) auth.push_back(url.user);
            auth.push_back(url.password);
            if (Status s = handshake(ctx, auth); !s) return s;
        }
        if (url.db != 0) {
            if (Status s = handshake(ctx, {"SELECT", std::to_string(url.db)}); !s) return s;
        }
        return Status::Ok();
    }

    struct Raw {
        RedisReply reply;
        bool error_reply = false;  // reply.str holds the server's error text
    };

    Result<Raw> exec(const std::vector<std::string>& argv, std::chrono::milliseconds blocks_for) {
        auto slot = checkout();
        if (!slot) return slot.error();
        redisContext*& ctx = slot->ctx();
        SigpipeGuard no_sigpipe;
        if (Status s = ensure_connected(ctx); !s) return s.error();
        const auto timeout = options.command_timeout + blocks_for;
        if (blocks_for.count() > 0) redisSetTimeout(ctx, to_timeval(timeout));
        std::vector<const char*> ptrs;
        std::vector<size_t> lens;
        ptrs.reserve(argv.size());
        lens.reserve(argv.size());
        for (const auto& a : argv) {
            ptrs.push_back(a.data());
            lens.push_back(a.size());
        }
        auto* r = static_cast<redisReply*>(
            redisCommandArgv(ctx, static_cast<int>(argv.size()), ptrs.data(), lens.data()));
        if (r == nullptr) return io_error(ctx, timeout);
        if (blocks_for.count() > 0) redisSetTimeout(ctx, to_timeval(options.command_timeout));
        Raw raw{convert(r), r->type == REDIS_REPLY_ERROR};
        freeReplyObject(r);
        return raw;
    }

    Error reply_error(const std::string& command, const std::string& text) const {
        const ErrorCode code =
            transient_error_reply(text) ? ErrorCode::kUnavailable : ErrorCode::kInternal;
        return make_error(code, "Redis at " + endpoint + " rejected " + command + ": " + text);
    }
};

RedisClient::RedisClient(std::unique_ptr<Pool> pool) : pool_(std::move(pool)) {}
RedisClient::~RedisClient() = default;

Result<std::shared_ptr<RedisClient>> RedisClient::open(const RedisOptions& options) {
    auto url = RedisUrl::parse(options.url);
    if (!url) return url.error();
    if (options.pool_size < 1 || options.pool_size > 1024) {
        return make_error(ErrorCode::kUsage, "Redis pool size must be from 1 to 1024");
    }
    if (options.connect_timeout.count() <= 0 || options.command_timeout.count() <= 0) {
        return make_error(ErrorCode::kUsage, "Redis timeouts must be positive");
    }
    auto pool = std::make_unique<Pool>();
    pool->url = std::move(*url);
    pool->options = options;
    pool->endpoint = pool->url.endpoint();
    pool->conns.assign(static_cast<size_t>(options.pool_size), nullptr);
    for (size_t i = 0; i < pool->conns.size(); ++i) pool->idle.push_back(i);
    return std::shared_ptr<RedisClient>(new RedisClient(std::move(pool)));
}

Result<RedisReply> RedisClient::command(const std::vector<std::string>& argv) {
    return blocking_command(argv, std::chrono::milliseconds(0));
}

Result<RedisReply> RedisClient::blocking_command(const std::vector<std::string>& argv,
                                                 std::chrono::milliseconds blocks_for) {
    auto raw = pool_->exec(argv, blocks_for);
    if (!raw) return raw.error();
    if (raw->error_reply) return pool_->reply_error(argv.empty() ? "" : argv[0], raw->reply.str);
    return std::move(raw->reply);
}

Result<RedisReply> RedisClient::eval(const LuaScript& script, const std::vector<std::string>& keys,
                                     const std::vector<std::string>& args) {
    std::vector<std::string> argv{"EVALSHA", script.sha1(), std::to_string(keys.size())};
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    auto raw = pool_->exec(argv, std::chrono::milliseconds(0));
    if (!raw) return raw.error();
    if (raw->error_reply && raw->reply.str.rfind("NOSCRIPT", 0) == 0) {
        // EVAL both runs the script and caches it, so later calls take the EVALSHA path.
        argv[0] = "EVAL";
        argv[1] = script.source();
        raw = pool_->exec(argv, std::chrono::milliseconds(0));
        if (!raw) return raw.error();
    }
    if (raw->error_reply) return pool_->reply_error("a script", raw->reply.str);
    return std::move(raw->reply);
}

const std::string& RedisClient::endpoint() const {
    return pool_->endpoint;
}

}  // namespace facefuse::tasks::redis
