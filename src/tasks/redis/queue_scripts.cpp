#include "tasks/redis/queue_scripts.hpp"

#include <string>

namespace facefuse::tasks::redis::queue_scripts {
namespace {

// Shared by every script. Lanes are numbered 1..3 (vip, normal, batch) in KEYS order. Numbers
// go back to Redis as the ARGV strings they came in: Lua prints numbers with 14 digits.
//
// The index hash maps task id -> "<lane> <entry id>" (in the stream) or "<lane> delayed", so a
// task is found for remove() and never queued twice.
constexpr const char* kPrelude = R"lua(
local GROUP = 'workers'
local LANES = {'vip', 'normal', 'batch'}
local LANE_NUMBER = {vip = 1, normal = 2, batch = 3}

-- After a restart without persistence the stream and its group are gone: make both again.
local function ensure_group(stream)
  if redis.call('EXISTS', stream) == 0 then
    redis.call('XGROUP', 'CREATE', stream, GROUP, '0', 'MKSTREAM')
  end
end

-- The pending-entries-list record {id, consumer, idle_ms, deliveries} of a leased entry, or nil.
local function pending(stream, id)
  if redis.call('EXISTS', stream) == 0 then return nil end
  return redis.call('XPENDING', stream, GROUP, id, id, 1)[1]
end

local function field(fields, name)
  for i = 1, #fields, 2 do
    if fields[i] == name then return fields[i + 1] end
  end
  return nil
end

-- Makes a task runnable now (XADD) or parks it in the lane's delayed set until not_before.
local function place(stream, delayed, index, task, lane, not_before, now)
  if tonumber(not_before) > tonumber(now) then
    redis.call('ZADD', delayed, not_before, task)
    redis.call('HSET', index, task, lane .. ' delayed')
  else
    local id = redis.call('XADD', stream, '*', 'task', task)
    redis.call('HSET', index, task, lane .. ' ' .. id)
  end
end

-- A lane's waiting tasks: stream length minus leased entries, plus delayed ones.
local function waiting(stream, delayed)
  return redis.call('XLEN', stream) - redis.call('XPENDING', stream, GROUP)[1]
    + redis.call('ZCARD', delayed)
end
)lua";

LuaScript make(const char* body) {
    return LuaScript(std::string(kPrelude) + body);
}

}  // namespace

const char* prelude() {
    return kPrelude;
}

// KEYS: stream, delayed, index. ARGV: task, lane, not_before_ms, now_ms, max_depth.
// Returns 1 (queued, or already there) or 0 (the lane is full). The bound counts waiting tasks
// (stream length minus leased entries, plus delayed ones) instead of using XADD MAXLEN, which
// would silently drop the oldest waiting task.
const LuaScript& enqueue() {
    static const LuaScript script = make(R"lua(
ensure_group(KEYS[1])
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then return 1 end
if waiting(KEYS[1], KEYS[2]) >= tonumber(ARGV[5]) then return 0 end
place(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
return 1
)lua");
    return script;
}

// KEYS: streams 1..3, delayed sets 4..6, XAUTOCLAIM cursors 7..9, index 10.
// ARGV: consumer, now_ms, min_idle_ms (the lease duration), wanted per lane (3), promote limit.
// Returns a flat array: lane number, entry id, task id, deliveries; repeated.
//
// 1. Due delayed tasks move into their streams. 2. Each lane serves the slots the weighted share
// gives it: first entries whose lease expired (XAUTOCLAIM, which also counts the delivery), then
// new entries (XREADGROUP). 3. Slots a lane could not fill go to the others in priority order.
const LuaScript& lease() {
    static const LuaScript script = make(R"lua(
local consumer, min_idle = ARGV[1], ARGV[3]
for l = 1, 3 do
  ensure_group(KEYS[l])
  local due = redis.call('ZRANGEBYSCORE', KEYS[3 + l], '-inf', ARGV[2], 'LIMIT', 0, ARGV[7])
  for _, task in ipairs(due) do
    redis.call('ZREM', KEYS[3 + l], task)
    place(KEYS[l], KEYS[3 + l], KEYS[10], task, LANES[l], '0', ARGV[2])
  end
end

local out = {}
-- An entry without a task field cannot be run by anyone: drop it rather than hand it out.
local function add(l, id, task, deliveries)
  if not task then
    redis.call('XACK', KEYS[l], GROUP, id)
    redis.call('XDEL', KEYS[l], id)
    return 0
  end
  out[#out + 1] = l
  out[#out + 1] = id
  out[#out + 1] = task
  out[#out + 1] = deliveries
  return 1
end

local function take(l, n)
  if n <= 0 then return 0 end
  local got = 0
  -- The cursor walks the pending list across calls, so a long head of live leases does not
  -- hide expired ones behind it (XAUTOCLAIM looks at COUNT*10 entries per call).
  local cursor = redis.call('GET', KEYS[6 + l]) or '0-0'
  local claimed = redis.call('XAUTOCLAIM', KEYS[l], GROUP, consumer, min_idle, cursor, 'COUNT', n)
  redis.call('SET', KEYS[6 + l], claimed[1])
  for _, e in ipairs(claimed[2]) do
    if type(e) == 'table' then  -- Redis 6.2 reports deleted entries as nil
      local task = field(e[2], 'task')
      local p = redis.call('XPENDING', KEYS[l], GROUP, e[1], e[1], 1)[1]
      got = got + add(l, e[1], task, p[4])
    end
  end
  if got < n then
    local r = redis.call('XREADGROUP', 'GROUP', GROUP, consumer, 'COUNT', n - got,
                         'STREAMS', KEYS[l], '>')
    if r then
      for _, e in ipairs(r[1][2]) do
        got = got + add(l, e[1], field(e[2], 'task'), 1)
      end
    end
  end
  return got
end

local short = 0
for l = 1, 3 do
  local want = tonumber(ARGV[3 + l])
  short = short + want - take(l, want)
end
for l = 1, 3 do
  if short <= 0 then break end
  short = short - take(l, short)
end
return out
)lua");
    return script;
}

// KEYS: stream. ARGV: entry id, deliveries. Returns 1 (renewed) or 0 (lost).
// The delivery count identifies one lease of an entry: a reclaim increments it, XCLAIM JUSTID
// (which resets the idle time, i.e. renews) does not. So a lease is still held exactly when the
// entry is pending with the count it was leased with.
const LuaScript& heartbeat() {
    static const LuaScript script = make(R"lua(
local p = pending(KEYS[1], ARGV[1])
if not p or tonumber(p[4]) ~= tonumber(ARGV[2]) then return 0 end
redis.call('XCLAIM', KEYS[1], GROUP, p[2], 0, ARGV[1], 'JUSTID')
return 1
)lua");
    return script;
}

// KEYS: stream, delayed, index, dead-letter stream.
// ARGV: mode (ack | retry | dead), entry id, deliveries, task, lane, not_before_ms, now_ms,
//       reason, dead-letter cap.
// Returns 1 (done), 0 (the lease is lost: the entry is not pending with this delivery count,
// because another delivery took it or it left the queue; nothing changed). The entry is
// acknowledged and
// deleted in the same step that re-queues or dead-letters it, so a crash between the two cannot
// lose the task or queue it twice.
const LuaScript& settle() {
    static const LuaScript script = make(R"lua(
local mode, id, task, lane = ARGV[1], ARGV[2], ARGV[4], ARGV[5]
local p = pending(KEYS[1], id)
if not p or tonumber(p[4]) ~= tonumber(ARGV[3]) then return 0 end
redis.call('XACK', KEYS[1], GROUP, id)
redis.call('XDEL', KEYS[1], id)
if redis.call('HGET', KEYS[3], task) == lane .. ' ' .. id then redis.call('HDEL', KEYS[3], task) end
if mode == 'retry' then
  place(KEYS[1], KEYS[2], KEYS[3], task, lane, ARGV[6], ARGV[7])
elseif mode == 'dead' then
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[9], '*', 'task', task, 'priority', lane,
             'reason', ARGV[8], 'deliveries', tostring(p[4]), 'at_ms', ARGV[7])
end
return 1
)lua");
    return script;
}

// KEYS: stream, delayed. Returns waiting (not leased) plus delayed tasks of the lane.
const LuaScript& depth() {
    static const LuaScript script = make(R"lua(
local n = redis.call('ZCARD', KEYS[2])
if redis.call('EXISTS', KEYS[1]) == 1 then
  n = n + redis.call('XLEN', KEYS[1]) - redis.call('XPENDING', KEYS[1], GROUP)[1]
end
return n
)lua");
    return script;
}

// KEYS: streams 1..3, delayed sets 4..6, index 7. ARGV: task.
// Returns 1 (removed), 0 (not there, or leased: a running task is cancelled cooperatively).
// The lane comes from the index, not the caller, so a wrong priority cannot miss the task.
const LuaScript& remove() {
    static const LuaScript script = make(R"lua(
local v = redis.call('HGET', KEYS[7], ARGV[1])
if not v then return 0 end
local sp = string.find(v, ' ', 1, true)
local l = LANE_NUMBER[string.sub(v, 1, sp - 1)]
local where = string.sub(v, sp + 1)
if where == 'delayed' then
  redis.call('ZREM', KEYS[3 + l], ARGV[1])
else
  if pending(KEYS[l], where) then return 0 end
  redis.call('XDEL', KEYS[l], where)
end
redis.call('HDEL', KEYS[7], ARGV[1])
return 1
)lua");
    return script;
}

}  // namespace facefuse::tasks::redis::queue_scripts
