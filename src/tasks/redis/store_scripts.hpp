#pragma once
// The Lua scripts behind RedisTaskStore (redis_store.cpp explains the keys). Their KEYS and ARGV
// are listed in store_scripts.cpp beside each script.
#include "tasks/redis/redis_client.hpp"

namespace facefuse::tasks::redis::store_scripts {

const LuaScript& create();
const LuaScript& write_if_unchanged();
const LuaScript& set_progress();
const LuaScript& request_cancel();
const LuaScript& list();
const LuaScript& expire();

}  // namespace facefuse::tasks::redis::store_scripts
