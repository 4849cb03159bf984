namespace Mtt.Core.Cluster;

/// <summary>
/// The Lua scripts: each runs atomically in Redis, so a change, its version and its message are one step, and
/// a counter flush or an opt 5 reset cannot interleave with another. Keys are <see cref="ClusterKeys"/>' order.
/// </summary>
internal static class ClusterScripts
{
    /// <summary>
    /// opt 1/2/3. KEYS: <see cref="ClusterKeys.ChangeKeys"/> (KEYS[10] is the quota's count). ARGV: deadline (Unix ms),
    /// opt, channel, then opt 1: path, dst, quota ('' for none), record per user; opt 2: paths. Returns the new
    /// version, -1 past the deadline, or -2 when Redis holds no table (restarted empty and not written back yet: a
    /// change now would become the whole table). A user deleted, or given another dst, loses its counters, as the
    /// local table's does. The quota's count starts again, in the same step as the change's version, when the quota
    /// is new or changed or was spent (docs/protocol.md §5.7: the same quota sent again keeps counting).
    /// </summary>
    public const string Change = """
        local t = redis.call('TIME')
        if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > tonumber(ARGV[1]) then return -1 end
        if redis.call('EXISTS', KEYS[2]) == 0 then return -2 end
        local op = ARGV[2]
        local lines = {}
        local function forget(path)
          for k = 3, #KEYS do redis.call('HDEL', KEYS[k], path) end
        end
        if op == '1' then
          for i = 4, #ARGV, 4 do
            local path = ARGV[i]
            local old = redis.call('HGET', KEYS[1], path)
            local was = old and cjson.decode(old)
            if was and was.dst ~= ARGV[i + 1] then forget(path) end
            local q = tonumber(ARGV[i + 2])
            if q then
              if not was or was.quota ~= q or tonumber(redis.call('HGET', KEYS[10], path) or '0') >= q then redis.call('HDEL', KEYS[10], path) end
            elseif was and was.quota then
              redis.call('HDEL', KEYS[10], path)
            end
            redis.call('HSET', KEYS[1], path, ARGV[i + 3])
            lines[#lines + 1] = ARGV[i + 3]
          end
        elseif op == '2' then
          for i = 4, #ARGV do
            if redis.call('HDEL', KEYS[1], ARGV[i]) == 1 then forget(ARGV[i]) end
            lines[#lines + 1] = ARGV[i]
          end
        else
          for k = 1, #KEYS do if k ~= 2 then redis.call('DEL', KEYS[k]) end end
        end
        local v = redis.call('INCR', KEYS[2])
        redis.call('PUBLISH', ARGV[3], v .. '\n' .. op .. '\n' .. table.concat(lines, '\n'))
        return v
        """;

    /// <summary>
    /// KEYS: users, version, quota_used. Returns {version or nil, records, quota counts as path, bytes...}: the whole
    /// table at one version, with what the cluster has spent of each quota at that version.
    /// </summary>
    public const string Snapshot = """
        return {redis.call('GET', KEYS[2]), redis.call('HVALS', KEYS[1]), redis.call('HGETALL', KEYS[3])}
        """;

    /// <summary>
    /// KEYS: users, version. ARGV: version, then path, record per user. Writes the table only where there is none
    /// (a new Redis, or one restarted without persistence): 1 when written, 0 when another instance was first.
    /// </summary>
    public const string Seed = """
        if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
        redis.call('DEL', KEYS[1])
        for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
        redis.call('SET', KEYS[2], ARGV[1])
        return 1
        """;

    /// <summary>
    /// The tick: counter deltas, heartbeat, and the version. KEYS: users, version, bytes_from, bytes_to,
    /// tunnels_opened, streams_opened, traffic_from, traffic_to, last_activity, nodes, node, active, flushed,
    /// quota_used. ARGV: node id, sequence, heartbeat, lifetime ms, key prefix, then per user ten values: path, bytes
    /// from, bytes to, tunnels opened, streams opened, last activity ms, tunnels open, streams open, whether the two
    /// open counts changed, the quota in force on the instance (0 for none). A sequence already applied adds nothing
    /// (a retried flush is counted once), and bytes of a user no longer in the table are dropped. A user's bytes
    /// both ways go to its quota's count in the same step; the flush that crosses the quota publishes
    /// <c>spent\nversion\npath</c> on the changes channel, so every instance closes the user's tunnels at once.
    /// Returns {version or nil, live instances, the quota's count for each user sent with a quota (-1: not in the
    /// table), in their order}.
    /// </summary>
    public const string Tick = """
        local seq = tonumber(ARGV[2])
        local ttl = tonumber(ARGV[4])
        local fresh = seq > tonumber(redis.call('GET', KEYS[13]) or '0')
        local used = {}
        for i = 6, #ARGV, 10 do
          local path = ARGV[i]
          local known = redis.call('HEXISTS', KEYS[1], path) == 1
          if fresh and known then
            for k = 1, 4 do
              local d = ARGV[i + k]
              if d ~= '0' then
                redis.call('HINCRBY', KEYS[2 + k], path, d)
                if k <= 2 then redis.call('HINCRBY', KEYS[6 + k], path, d) end
              end
            end
            if tonumber(ARGV[i + 5]) > tonumber(redis.call('HGET', KEYS[9], path) or '0') then redis.call('HSET', KEYS[9], path, ARGV[i + 5]) end
          end
          if ARGV[i + 8] == '1' then
            if ARGV[i + 6] == '0' and ARGV[i + 7] == '0' then redis.call('HDEL', KEYS[12], path)
            else redis.call('HSET', KEYS[12], path, ARGV[i + 6] .. ' ' .. ARGV[i + 7]) end
          end
          local q = tonumber(ARGV[i + 9])
          if q > 0 then
            local u = -1
            if known then
              local d = fresh and tonumber(ARGV[i + 1]) + tonumber(ARGV[i + 2]) or 0
              if d > 0 then
                u = redis.call('HINCRBY', KEYS[14], path, d)
                if u >= q and u - d < q then
                  redis.call('PUBLISH', ARGV[5] .. 'changes', 'spent\n' .. (redis.call('GET', KEYS[2]) or '0') .. '\n' .. path)
                end
              else
                u = tonumber(redis.call('HGET', KEYS[14], path) or '0')
              end
            end
            used[#used + 1] = u
          end
        end
        if fresh then redis.call('SET', KEYS[13], seq, 'PX', 86400000) end
        redis.call('SET', KEYS[11], ARGV[3], 'PX', ttl)
        redis.call('PEXPIRE', KEYS[12], ttl)
        redis.call('SADD', KEYS[10], ARGV[1])
        local alive = 0
        for _, id in ipairs(redis.call('SMEMBERS', KEYS[10])) do
          if redis.call('EXISTS', ARGV[5] .. 'node:' .. id) == 1 then alive = alive + 1 else redis.call('SREM', KEYS[10], id) end
        end
        return {redis.call('GET', KEYS[2]), alive, used}
        """;

    /// <summary>
    /// opt 4's counters. KEYS: bytes_from, bytes_to, tunnels_opened, streams_opened, last_activity, nodes, quota_used.
    /// ARGV: prefix. Returns the five hashes as flat arrays, then path, tunnels, streams open summed over the live
    /// instances, then the quota counts (path, bytes).
    /// </summary>
    public const string Counters = """
        local out = {}
        for k = 1, 5 do out[k] = redis.call('HGETALL', KEYS[k]) end
        local sums = {}
        for _, id in ipairs(redis.call('SMEMBERS', KEYS[6])) do
          if redis.call('EXISTS', ARGV[1] .. 'node:' .. id) == 1 then
            local h = redis.call('HGETALL', ARGV[1] .. 'active:' .. id)
            for j = 1, #h, 2 do
              local a, b = string.match(h[j + 1], '(%d+) (%d+)')
              local e = sums[h[j]] or {0, 0}
              e[1] = e[1] + tonumber(a)
              e[2] = e[2] + tonumber(b)
              sums[h[j]] = e
            end
          end
        end
        local active = {}
        for p, e in pairs(sums) do
          active[#active + 1] = p
          active[#active + 1] = e[1]
          active[#active + 1] = e[2]
        end
        out[6] = active
        out[7] = redis.call('HGETALL', KEYS[7])
        return out
        """;

    /// <summary>
    /// opt 5. KEYS: traffic_from, traffic_to. ARGV: 1 to reset. The read and the reset are one step: a flush lands
    /// wholly before it (reported now) or after (reported next time), so every byte is reported exactly once.
    /// </summary>
    public const string Traffic = """
        local out = {redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])}
        if ARGV[1] == '1' then redis.call('DEL', KEYS[1], KEYS[2]) end
        return out
        """;

    /// <summary>opt 6. KEYS: nodes. ARGV: prefix. Returns the live heartbeats; ids whose heartbeat expired are pruned.</summary>
    public const string Nodes = """
        local out = {}
        for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
          local beat = redis.call('GET', ARGV[1] .. 'node:' .. id)
          if beat then out[#out + 1] = beat else redis.call('SREM', KEYS[1], id) end
        end
        return out
        """;
}
