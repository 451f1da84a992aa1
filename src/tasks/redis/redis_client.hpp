#pragma once
// RedisClient: a small, thread-safe pool of blocking hiredis connections to one Redis server.
//
// One hiredis context is not thread-safe and a blocking command (XREADGROUP BLOCK) occupies it,
// so the client keeps `pool_size` contexts and lends one to each call. Every call is bounded:
// connecting by connect_timeout, a command by command_timeout, waiting for a free connection by
// connect_timeout + command_timeout. A connection that failed is dropped and re-made on its next
// use, so the client recovers by itself when Redis comes back. Errors name the server as
// "host:port/db", never the password. (Resolving a host name is up to the system resolver,
// which connect_timeout does not bound.)
//
// Errors: kUnavailable when Redis cannot be reached, did not answer in time, or answered with a
// transient error (LOADING, BUSY, READONLY, OOM, ...); kInternal for any other error reply (a
// bug: a malformed command or script); kUsage for a malformed URL (from open()).
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "tasks/redis/redis_url.hpp"

namespace facefuse::tasks::redis {

struct RedisOptions {
    std::string url = "redis://127.0.0.1:6379/0";
    int pool_size = 8;  // connections; at least one per thread that may block in lease()
    std::chrono::milliseconds connect_timeout{2000};
    std::chrono::milliseconds command_timeout{2000};
};

// A reply, copied out of hiredis's reply tree (RESP2 types).
struct RedisReply {
    enum class Type { kNil, kString, kStatus, kInteger, kArray };
    Type type = Type::kNil;
    std::string str;  // kString, kStatus
    long long integer = 0;
    std::vector<RedisReply> elements;

    bool is_nil() const { return type == Type::kNil; }
    bool is_array() const { return type == Type::kArray; }
    // The reply as an integer: kInteger, or a kString holding a decimal number; else 0.
    long long as_int() const;
};

// A Lua script with its SHA-1, so it is sent once per server (EVALSHA, EVAL on NOSCRIPT).
class LuaScript {
  public:
    explicit LuaScript(std::string source);
    const std::string& source() const { return source_; }
    const std::string& sha1() const { return sha1_; }

  private:
    std::string source_;
    std::string sha1_;  // lowercase hex
};

class RedisClient {
  public:
    // Checks the options and the URL; does not connect (the first call does), so a process can
    // start while Redis is still down. kUsage for a bad URL or pool size.
    static Result<std::shared_ptr<RedisClient>> open(const RedisOptions& options);
    ~RedisClient();
    RedisClient(const RedisClient&) = delete;
    RedisClient& operator=(const RedisClient&) = delete;

    // Runs one command; arguments are binary-safe.
    Result<RedisReply> command(const std::vector<std::string>& argv);

    // Runs a command that blocks on the server for up to `blocks_for` (XREADGROUP BLOCK): the
    // read timeout is stretched by that much for this call only.
    Result<RedisReply> blocking_command(const std::vector<std::string>& argv,
                                        std::chrono::milliseconds blocks_for);

    // EVALSHA, falling back to EVAL when the server does not know the script yet (first use,
    // or after a restart or SCRIPT FLUSH).
    Result<RedisReply> eval(const LuaScript& script, const std::vector<std::string>& keys,
                            const std::vector<std::string>& args);

    // "host:port/db".
    const std::string& endpoint() const;

    struct Pool;  // defined in redis_client.cpp

  private:
    explicit RedisClient(std::unique_ptr<Pool> pool);
    std::unique_ptr<Pool> pool_;
};

// The clock every *_ms field of a task uses: facefuse::unix_now_ms() (common/clock.hpp).
using facefuse::unix_now_ms;

}  // namespace facefuse::tasks::redis
