#pragma once
// The Lua scripts behind RedisTaskQueue (streams_queue.cpp explains the design). Each script is
// one atomic step on the server, so no two workers ever see a half-made change. Their KEYS and
// ARGV are listed in queue_scripts.cpp beside each script.
#include "tasks/redis/redis_client.hpp"

namespace facefuse::tasks::redis::queue_scripts {

// The Lua functions the scripts share (ensure_group, place, waiting...), for the store's
// create-and-enqueue script.
const char* prelude();

const LuaScript& enqueue();
const LuaScript& lease();
const LuaScript& heartbeat();
const LuaScript& settle();  // ack, retry and dead letter
const LuaScript& depth();
const LuaScript& remove();

}  // namespace facefuse::tasks::redis::queue_scripts
