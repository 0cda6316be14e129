using System.Text;
using Streams.Core;

namespace Streams.Chaos;

/// <summary>What the chaos run checks, from the pipeline's results and the gateway's own record of every call.</summary>
public sealed record Verdict(bool Passed, string Summary, string Details)
{
    private static readonly HashSet<string> LegitimateStops = [Reasons.FrequencyCapped, Reasons.LimitReached, Reasons.CampaignInactive];

    public static Verdict Judge(
        Dictionary<string, (string Campaign, string User)> expected,
        List<SmsResult> results,
        List<GatewayCall> calls,
        List<(DateTimeOffset At, string Node, string How)> kills,
        List<(string Node, int ExitCode, TimeSpan Took)> stops,
        int deadLettered,
        int malformed,
        DateTimeOffset? redisRestartedAt)
    {
        var problems = new List<string>();
        var byRequest = results.GroupBy(r => r.RequestId).ToDictionary(g => g.Key, g => g.ToList());
        var taken = calls.Where(c => c.Taken).GroupBy(c => c.RequestId).ToDictionary(g => g.Key, g => g.Count());

        // Every request ends, with one terminal status. A live campaign whose reach limit is full completes, and the
        // topology makes no request for it afterwards: those triggers have no request at all, rightly.
        var completed = results.Where(r => r.Reason == Reasons.LimitReached).Select(r => r.CampaignId).ToHashSet();
        var notRequested = expected.Where(e => completed.Contains(e.Value.Campaign) && !byRequest.ContainsKey(e.Key)).Select(e => e.Key).ToHashSet();
        var unended = expected.Keys.Where(id => !notRequested.Contains(id) && (!byRequest.TryGetValue(id, out var rs) || !rs.Any(r => ResultStatus.Final.Contains(r.Status)))).ToList();
        if (unended.Count > 0) problems.Add($"{unended.Count} requests never ended (e.g. {string.Join(", ", unended.Take(3))})");
        var unknown = byRequest.Keys.Where(id => !expected.ContainsKey(id)).ToList();
        if (unknown.Count > 0) problems.Add($"{unknown.Count} results for requests no event asked for");
        var outcome = new Dictionary<string, SmsResult>();
        var split = 0;
        foreach (var (id, rs) in byRequest)
        {
            var terminal = rs.Where(r => ResultStatus.Final.Contains(r.Status)).Select(r => (r.Status, r.Reason)).Distinct().ToList();
            if (terminal.Count > 1) split++;
            outcome[id] = rs.FirstOrDefault(r => ResultStatus.Final.Contains(r.Status)) ?? rs[0];
        }
        if (split > 0) problems.Add($"{split} requests ended in more than one way");

        // No request id taken twice at the gateway; what it took was reported sent (or ambiguous), and nothing else was.
        var duplicated = taken.Count(t => t.Value > 1);
        if (duplicated > 0) problems.Add($"{duplicated} request ids taken twice at the gateway");
        bool WasSent(SmsResult r) => r.Status is ResultStatus.Sent or ResultStatus.Expired or ResultStatus.Delivered || byRequest[r.RequestId].Any(x => x.Status == ResultStatus.Sent);
        var lies = outcome.Values.Count(r => taken.ContainsKey(r.RequestId) ? !WasSent(r) && r.Status != ResultStatus.Ambiguous : WasSent(r));
        if (lies > 0) problems.Add($"{lies} requests whose result disagrees with the gateway (sent but not taken, or taken but reported otherwise)");

        // Caps and limits, counted at the gateway: two a day per user, 50 users for promo.
        var perUser = taken.Keys.Where(expected.ContainsKey).GroupBy(id => expected[id].User).Select(g => g.Count()).DefaultIfEmpty(0).Max();
        if (perUser > 2) problems.Add($"a user received {perUser} messages with a day cap of 2");
        var promo = taken.Keys.Where(id => expected.TryGetValue(id, out var e) && e.Campaign == "promo").Select(id => expected[id].User).Distinct().Count();
        if (promo > 50) problems.Add($"{promo} users received promo, limited to 50");

        // Everyone not sent has a legitimate reason; the ambiguous are bounded by what could be in doubt.
        var notSent = outcome.Values.Where(r => !WasSent(r)).ToList();
        var illegitimate = notSent.Where(r => r.Status == ResultStatus.Suppressed && !LegitimateStops.Contains(r.Reason ?? "")).ToList();
        if (illegitimate.Count > 0) problems.Add($"{illegitimate.Count} not sent for no good reason ({string.Join(", ", illegitimate.Select(r => r.Reason).Distinct())})");
        var ambiguous = notSent.Where(r => r.Status == ResultStatus.Ambiguous).ToList();
        var interrupted = ambiguous.Count(r => r.Reason == Reasons.InterruptedAttempt);
        var providerCaused = ambiguous.Count - interrupted;
        var dispatcherKills = kills.Where(k => k.How == "SIGKILL" && k.Node.StartsWith('d')).ToList();
        var inFlight = calls.Count(c => dispatcherKills.Any(k => c.Start <= k.At && k.At <= c.End + TimeSpan.FromMilliseconds(200)));
        // Besides calls on the wire, a kill can fall between a claim and its call: at most a turn (the burst) per kill.
        var interruptedBound = inFlight + 5 * dispatcherKills.Count;
        if (interrupted > interruptedBound) problems.Add($"{interrupted} interrupted attempts, more than the {interruptedBound} that could have been in flight at the kills");
        var unsureAnswers = calls.Count(c => c.Answer is "500-after-accept" or "timeout-after-accept");
        if (providerCaused > unsureAnswers) problems.Add($"{providerCaused} ambiguous by the gateway's answer, more than its {unsureAnswers} unclear answers");

        if (deadLettered != malformed) problems.Add($"{deadLettered} of {malformed} malformed records in sms.dlq");
        var badStops = stops.Where(s => s.ExitCode != 0).ToList();
        if (badStops.Count > 0) problems.Add($"{badStops.Count} SIGTERMs did not end with exit 0 ({string.Join(", ", badStops.Select(s => $"{s.Node}: {s.ExitCode}"))})");
        var redisRestarted = redisRestartedAt is not null;
        if (!redisRestarted) problems.Add("the run ended before Redis was restarted");

        var ordered = calls.Select(c => c.Start).Order().ToList();
        var gaps = ordered.Zip(ordered.Skip(1), (a, b) => (From: a, Gap: b - a)).ToList();
        var stall = gaps.Select(g => g.Gap).DefaultIfEmpty(TimeSpan.Zero).Max();
        // The one Redis loss pauses sending while the counters are rebuilt: the longest pause apart from it, too.
        var otherStall = gaps.Where(g => redisRestartedAt is not { } at || g.From + g.Gap < at || g.From > at + TimeSpan.FromSeconds(5))
            .Select(g => g.Gap).DefaultIfEmpty(TimeSpan.Zero).Max();
        var sent = outcome.Values.Count(WasSent);
        var summary = new StringBuilder()
            .Append(problems.Count == 0 ? "chaos: PASS" : "chaos: FAIL")
            .Append($" — {expected.Count} requests; {kills.Count(k => k.How == "SIGKILL")} SIGKILL + {kills.Count(k => k.How == "SIGTERM")} SIGTERM with restarts, Redis restarted empty {(redisRestarted ? 1 : 0)}x")
            .Append($"; sent {sent} (gateway took {taken.Count}), duplicated {duplicated}")
            .Append($"; ambiguous {ambiguous.Count} ({interrupted} interrupted ≤ {interruptedBound}, {providerCaused} by unclear gateway answers ≤ {unsureAnswers})")
            .Append($"; not sent {notSent.Count - ambiguous.Count} ({string.Join(", ", notSent.Where(r => r.Status != ResultStatus.Ambiguous).GroupBy(r => r.Status == ResultStatus.Suppressed ? r.Reason : r.Status).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}"))})")
            .Append($"; not requested after completion {notRequested.Count}; unended {unended.Count}; malformed {deadLettered}/{malformed} in sms.dlq; longest stall {stall.TotalSeconds:0.0} s ({otherStall.TotalSeconds:0.0} s apart from the Redis rebuild)")
            .ToString();
        var details = problems.Count == 0 ? "all checks hold" : "problems: " + string.Join("; ", problems);
        string Story(string id) =>
            $"{id} ({(expected.TryGetValue(id, out var e) ? $"{e.Campaign}/{e.User}" : "?")}): results [{string.Join(", ", byRequest.GetValueOrDefault(id, []).Select(r => $"{r.Status}:{r.Reason}@{r.Ts:HH:mm:ss.fff}"))}]"
            + $" gateway [{string.Join(", ", calls.Where(c => c.RequestId == id).Select(c => $"{c.Answer}@{c.Start:HH:mm:ss.fff}"))}]";
        var samples = unended.Take(3)
            .Concat(taken.Where(t => t.Value > 1).Select(t => t.Key).Take(3))
            .Concat(outcome.Values.Where(r => taken.ContainsKey(r.RequestId) ? !WasSent(r) && r.Status != ResultStatus.Ambiguous : WasSent(r)).Select(r => r.RequestId).Take(3))
            .Concat(byRequest.Where(b => b.Value.Where(r => ResultStatus.Final.Contains(r.Status)).Select(r => (r.Status, r.Reason)).Distinct().Count() > 1).Select(b => b.Key).Take(3));
        foreach (var id in samples) details += "\n  " + Story(id);
        var failures = notSent.Where(r => r.Status == ResultStatus.Failed).GroupBy(r => r.Reason?.Split(':').Take(2).Aggregate((a, b) => a + ":" + b) ?? "").Select(g => $"{g.Key} {g.Count()}");
        details += $"\nfailed by reason: {string.Join("; ", failures)}\nSIGTERM stops: {string.Join(", ", stops.Select(s => $"{s.Node} {s.Took.TotalMilliseconds:0} ms"))}";
        return new Verdict(problems.Count == 0, summary, details);
    }
}
