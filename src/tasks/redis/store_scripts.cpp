#include "tasks/redis/store_scripts.hpp"

#include <string>

#include "tasks/redis/queue_scripts.hpp"

namespace facefuse::tasks::redis::store_scripts {
namespace {

constexpr const char* kPrelude = R"lua(
-- Pushes a key's expiry out to at_ms, never pulls it in: the tenant index must outlive the
-- longest-lived task it lists.
local function extend(key, at_ms, now_ms)
  local want = tonumber(at_ms) - tonumber(now_ms)
  if want > 0 and redis.call('PTTL', key) < want then redis.call('PEXPIREAT', key, at_ms) end
end

-- Byte order, as Redis sorts equal scores (Lua's own < follows the server's locale).
local function bytes_less(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
)lua";

LuaScript make(const char* body) {
    return LuaScript(std::string(kPrelude) + queue_scripts::prelude() + body);
}

}  // namespace

// KEYS: task, tenant index, expiry set, idempotency key, tenant's queued set; to enqueue the
//       task too: its lane's stream, delayed set, and the queue index (queue_scripts.cpp).
// ARGV: id, request_hash, idempotency TTL ms ("0": no key), now_ms, expires_at_ms, key TTL end
//       (expires_at + grace), created_at_ms, task key prefix, expiry member, lane name
//       ("": do not enqueue), lane bound, field pairs...
// Returns {"created"}, {"replay", id}, {"conflict", id}, {"exists"} (an id collision) or
// {"full"} (its lane holds its bound; nothing written).
// Checking the key and creating the task in one script is what lets exactly one of many
// concurrent requests with one key create it; enqueueing in it too is what keeps a crash
// between the two from leaving a record no worker will run.
const LuaScript& create() {
    static const LuaScript script = make(R"lua(
if ARGV[3] ~= '0' then
  local v = redis.call('GET', KEYS[4])
  if v then
    local sp = string.find(v, ' ', 1, true)
    local old_id, old_hash = string.sub(v, 1, sp - 1), string.sub(v, sp + 1)
    if redis.call('EXISTS', ARGV[8] .. old_id) == 1 then
      if old_hash == ARGV[2] then return {'replay', old_id} end
      return {'conflict', old_id}
    end
    -- The task this key made is gone (expired): the key is free again.
  end
end
if redis.call('EXISTS', KEYS[1]) == 1 then return {'exists'} end
local lane = ARGV[10]
if lane ~= '' then
  ensure_group(KEYS[6])
  if waiting(KEYS[6], KEYS[7]) >= tonumber(ARGV[11]) then return {'full'} end
end
if ARGV[3] ~= '0' then redis.call('SET', KEYS[4], ARGV[1] .. ' ' .. ARGV[2], 'PX', ARGV[3]) end
redis.call('HSET', KEYS[1], 'rev', '1', unpack(ARGV, 12))
redis.call('PEXPIREAT', KEYS[1], ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[7], ARGV[1])
extend(KEYS[2], ARGV[6], ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[9])
if redis.call('HGET', KEYS[1], 'state') == 'queued' then
  redis.call('ZADD', KEYS[5], ARGV[5], ARGV[1])
  extend(KEYS[5], ARGV[6], ARGV[4])
end
if lane ~= '' then place(KEYS[6], KEYS[7], KEYS[8], ARGV[1], lane, '0', ARGV[4]) end
return {'created'}
)lua");
    return script;
}

// KEYS: task, tenant index, expiry set, tenant's queued set (scored by expires_at_ms, so a
//       task that expired while queued stops counting without anyone removing it).
// ARGV: expected rev, key TTL end, expires_at_ms, now_ms, expiry member, n, n fields to delete,
//       field pairs...
// Returns 1 (written) or 0 (the record changed since it was read, or is gone: read again).
// `rev` counts every write but progress reports, so this is a compare-and-set on the record.
const LuaScript& write_if_unchanged() {
    static const LuaScript script = make(R"lua(
if redis.call('HGET', KEYS[1], 'rev') ~= ARGV[1] then return 0 end
local n = tonumber(ARGV[6])
if n > 0 then redis.call('HDEL', KEYS[1], unpack(ARGV, 7, 6 + n)) end
redis.call('HSET', KEYS[1], unpack(ARGV, 7 + n))
redis.call('HINCRBY', KEYS[1], 'rev', 1)
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[5])
extend(KEYS[2], ARGV[2], ARGV[4])
local id = redis.call('HGET', KEYS[1], 'id')
if redis.call('HGET', KEYS[1], 'state') == 'queued' then
  redis.call('ZADD', KEYS[4], ARGV[3], id)
  extend(KEYS[4], ARGV[2], ARGV[4])
else
  redis.call('ZREM', KEYS[4], id)
end
return 1
)lua");
    return script;
}

// KEYS: task. ARGV: progress, now_ms. Only a running task takes progress, so a late report
// cannot touch a finished one. It leaves `rev` alone: progress is last-writer-wins, and
// transition() does not write it back unless its change set it, so frequent reports never make
// a transition retry.
const LuaScript& set_progress() {
    static const LuaScript script = make(R"lua(
if redis.call('HGET', KEYS[1], 'state') ~= 'running' then return 0 end
redis.call('HSET', KEYS[1], 'progress', ARGV[1], 'updated_at_ms', ARGV[2])
return 1
)lua");
    return script;
}

// KEYS: task. ARGV: tenant ("" any), now_ms.
// Returns the record (HGETALL), {} when absent or another tenant's. Finished tasks, and tasks
// already asked to cancel, are returned unchanged: terminal records never change.
const LuaScript& request_cancel() {
    static const LuaScript script = make(R"lua(
local tenant = redis.call('HGET', KEYS[1], 'tenant')
if not tenant or (ARGV[1] ~= '' and tenant ~= ARGV[1]) then return {} end
local state = redis.call('HGET', KEYS[1], 'state')
local asked = redis.call('HGET', KEYS[1], 'cancel_requested') == '1'
if (state == 'queued' or state == 'running') and not asked then
  redis.call('HSET', KEYS[1], 'cancel_requested', '1', 'updated_at_ms', ARGV[2])
  redis.call('HINCRBY', KEYS[1], 'rev', 1)
end
return redis.call('HGETALL', KEYS[1])
)lua");
    return script;
}

// KEYS: tenant index. ARGV: task key prefix, cursor score ("+inf": first page), cursor id,
//       limit, most index entries to look at.
// Returns {next score, next id, {record, record, ...}}; next is "" on the last page.
// The index may still list records whose TTL removed them; they are skipped (expire() removes
// them from the index), and the scan stops after a bounded number of entries, returning a
// cursor where it stopped.
const LuaScript& list() {
    static const LuaScript script = make(R"lua(
local limit, cap = tonumber(ARGV[4]), tonumber(ARGV[5])
local cursor_score = nil
if ARGV[2] ~= '+inf' then cursor_score = tonumber(ARGV[2]) end
local out, last_score, last_id = {}, '', ''
local offset, scanned, batch = 0, 0, limit + 16
while true do
  local r = redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[2], '-inf', 'WITHSCORES',
                       'LIMIT', offset, batch)
  if #r == 0 then return {'', '', out} end
  for i = 1, #r, 2 do
    local id, score = r[i], r[i + 1]
    scanned = scanned + 1
    -- Equal scores come in reverse byte order: those not below the cursor id were on a page
    -- already.
    local seen = cursor_score ~= nil and tonumber(score) == cursor_score
                 and not bytes_less(id, ARGV[3])
    if not seen then
      local h = redis.call('HGETALL', ARGV[1] .. id)
      if #h > 0 then
        if #out == limit then return {last_score, last_id, out} end
        out[#out + 1] = h
        last_score, last_id = score, id
      end
    end
    if scanned >= cap then
      if #out == limit then return {last_score, last_id, out} end
      return {score, id, out}
    end
  end
  offset = offset + batch
end
)lua");
    return script;
}

// KEYS: expiry set. ARGV: task key prefix, tenant key prefix, now_ms, max.
// Returns flat {id, tenant, record (HGETALL, {} if its TTL already removed it), ...}.
const LuaScript& expire() {
    static const LuaScript script = make(R"lua(
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[3], 'LIMIT', 0, ARGV[4])
local out = {}
for _, member in ipairs(due) do
  local sp = string.find(member, ' ', 1, true)
  local id, tenant = string.sub(member, 1, sp - 1), string.sub(member, sp + 1)
  out[#out + 1] = id
  out[#out + 1] = tenant
  out[#out + 1] = redis.call('HGETALL', ARGV[1] .. id)
  redis.call('DEL', ARGV[1] .. id)
  redis.call('ZREM', ARGV[2] .. tenant .. ':tasks', id)
  redis.call('ZREM', KEYS[1], member)
end
return out
)lua");
    return script;
}

}  // namespace facefuse::tasks::redis::store_scripts
