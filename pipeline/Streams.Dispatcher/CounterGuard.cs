using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Streams.Core;
using Streams.Counters;
using Streams.Kafka;

namespace Streams.Dispatcher;

/// <summary>
/// Nothing is sent on counters that cannot be trusted. Redis carries an epoch key from the moment its data is
/// complete; a Redis that comes back without it has lost its data (restarted without persistence, flushed,
/// replaced). Kafka is the source of truth: one dispatcher rebuilds the send keys and the places every sent request
/// holds (caps, reach and daily limits still open) from sms.results, and consent from sms.inbound and sms.profiles,
/// while every dispatcher holds its sends. A store with no epoch over an empty sms.results is simply new.
/// </summary>
public sealed class CounterGuard(ICounterStore counters, string bootstrap, Topics topics, IProviderRegistry providers, TimeProvider time, ILogger logger, string owner)
{
    private static readonly TimeSpan RecheckEvery = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan RebuildLease = TimeSpan.FromMinutes(10);
    public static readonly TimeSpan SettleBeforeRebuild = TimeSpan.FromSeconds(2);
    private DateTimeOffset _checkedAt = DateTimeOffset.MinValue;
    private string? _epoch;

    /// <summary>Returns when the counters can be trusted; throws <see cref="RedisUnavailableException"/> while they cannot (the caller waits and retries).</summary>
    public async Task EnsureAsync(CancellationToken ct)
    {
        if (_epoch is not null && DateTimeOffset.UtcNow - _checkedAt < RecheckEvery) return;
        var epoch = await counters.EpochAsync();
        if (epoch is not null)
        {
            if (_epoch is not null && epoch != _epoch) logger.LogWarning("the counter store was rebuilt (epoch {Old} → {New})", _epoch, epoch);
            (_epoch, _checkedAt) = (epoch, DateTimeOffset.UtcNow);
            return;
        }
        _epoch = null;
        if (!HasHistory())
        {
            await counters.SetEpochAsync(NewEpoch());
            return;
        }
        if (!await counters.TryLockAsync("rebuild", owner, RebuildLease))
            throw new RedisUnavailableException("the counter store lost its data and another dispatcher is rebuilding it from Kafka");
        try
        {
            // Another dispatcher may have finished a rebuild between the look above and this lock: rebuilding again
            // would write back claims for sends recorded since (a chaos run caught one ending two ways).
            if (await counters.EpochAsync() is { } rebuilt)
            {
                (_epoch, _checkedAt) = (rebuilt, DateTimeOffset.UtcNow);
                return;
            }
            logger.LogWarning("the counter store has no epoch but sms.results has history: it lost its data; sending is paused while it is rebuilt from Kafka");
            var clock = Stopwatch.StartNew();
            // Dispatchers report what they finished before the loss as soon as their hand-overs fail, which is before
            // Redis can even be back: a moment's wait lets the last of those results reach Kafka before it is read.
            await Task.Delay(SettleBeforeRebuild, ct);
            var (sends, consent) = await RebuildAsync(ct);
            await counters.SetEpochAsync(NewEpoch());
            logger.LogWarning("counter store rebuilt from Kafka in {Seconds:0.0} s ({Phases}): {Sends} sent requests and the places they hold, {Consent} consent changes; sending resumes",
                clock.Elapsed.TotalSeconds, LastPhases, sends, consent);
        }
        finally
        {
            await counters.UnlockAsync("rebuild", owner);
        }
    }

    /// <summary>How long the last rebuild's phases took, for the log.</summary>
    public string LastPhases { get; private set; } = "";

    /// <summary>The store answered without its epoch: look again before the next batch instead of trusting the last check.</summary>
    public void Forget() => _epoch = null;

    private string NewEpoch() => $"{time.GetUtcNow():yyyyMMddTHHmmssZ}-{Guid.NewGuid():N}";

    private bool HasHistory()
    {
        return TopicReader.HasRecords(bootstrap, topics.Results, logger);
    }

    /// <summary>Every sent (or ambiguous) request still within its keep, and every consent change, back into the store.</summary>
    public async Task<(int Sends, int Consent)> RebuildAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var phase = Stopwatch.StartNew();
        // Every request Kafka says was sent (or may have been): a sent result, an ambiguous one, or a later report
        // (delivered, undelivered, expired, or failed with a message id); the places come from whichever names them.
        var sent = new Dictionary<string, (SmsResult First, IReadOnlyList<string>? Holds, bool Ambiguous)>();
        var sending = new Dictionary<string, SmsResult>();
        var refused = new Dictionary<string, SmsResult>();
        var denied = new Dictionary<string, SmsResult>();
        var ended = new HashSet<string>();
        foreach (var r in TopicReader.ReadToEnd(bootstrap, topics.Results, logger, ct))
        {
            var wasSent = r.Status is ResultStatus.Sent or ResultStatus.Ambiguous or ResultStatus.Delivered or ResultStatus.Undelivered or ResultStatus.Expired
                || (r.Status == ResultStatus.Failed && r.MessageId is not null);
            if (wasSent)
            {
                var known = sent.TryGetValue(r.RequestId, out var k) ? k : (r, null, true);
                sent[r.RequestId] = (known.First, known.Holds ?? r.Holds, known.Ambiguous && r.Status == ResultStatus.Ambiguous);
            }
            else if (r.Status == ResultStatus.Sending) sending.TryAdd(r.RequestId, r);
            else if (r.Status == ResultStatus.Failed) refused[r.RequestId] = r;
            else if (r is { Status: ResultStatus.Suppressed, Reason: Reasons.LimitReached or Reasons.DailyLimitReached or Reasons.RunLimitReached or Reasons.FrequencyCapped
                     or Reasons.DndDiscarded or Reasons.RenderFailed or Reasons.TooManySegments or Reasons.ControlGroup or Reasons.GlobalControl })
                denied.TryAdd(r.RequestId, r);
            if (r.Status is not ResultStatus.Sent and not ResultStatus.Sending and not ResultStatus.Suppressed) ended.Add(r.RequestId);
        }
        LastPhases = $"read sms.results {phase.Elapsed.TotalSeconds:0.0} s";
        phase.Restart();
        var restored = new List<RestoredSend>();
        foreach (var (first, namedHolds, ambiguousOnly) in sent.Values)
        {
            var r = first;
            // A re-reported result may not name the places; the hand-over's own record does.
            var holdsOf = namedHolds ?? (sending.TryGetValue(r.RequestId, out var handedOver) ? handedOver.Holds : null);
            var age = now - r.Ts;
            var keepLeft = RequestHandler.KeepSendKeys - age;
            if (keepLeft <= TimeSpan.Zero) continue;
            var places = (holdsOf ?? []).Select(Hold).OfType<(CounterKind, string, TimeSpan)>()
                .Select(h => (h.Item1, h.Item2, h.Item3 - age)).Where(h => h.Item3 > TimeSpan.Zero).ToList();
            var info = new SmsInfo(r.Encoding ?? "", 0, r.Segments);
            var request = new SmsRequest(r.RequestId, r.CampaignId, 0, r.UserId, r.Ts, new RequestContext(null, null, Props.Empty, null, null, null, Props.Empty));
            var isSent = !ambiguousOnly && r.MessageId is not null;
            var provider = r.Provider is null ? null : providers.Get(r.Provider);
            var waiting = isSent && !ended.Contains(r.RequestId);
            restored.Add(new RestoredSend(r.RequestId, r.UserId, r.CampaignId,
                isSent ? $"sent|{r.MessageId}|{r.Segments.ToString(CultureInfo.InvariantCulture)}|{r.Encoding}|{r.Provider}|{r.Ts.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}" : $"ambiguous|{r.Reason}",
                keepLeft, places,
                isSent && provider is not null ? MessageNote.Key(provider.Kind, r.MessageId!) : null,
                isSent ? new MessageNote(r.RequestId, r.CampaignId, r.UserId, r.Provider ?? "", r.Segments, r.Encoding ?? "").ToString() : null,
                waiting ? r.Ts + (provider?.DeliversAfter ?? providers.ReportTimeoutFor(r.Provider ?? "")) : null,
                waiting ? PendingReport.Info(provider?.DeliversAfter is null ? PendingReport.Expire : PendingReport.Deliver, r.MessageId!, request, r.Provider ?? "", info, holdsOf) : null));
        }
        // A request stopped at the hand-over (a counter, or a stop judged there) keeps that stop: the hand-over recorded it,
        // and a store that lost it gets it back.
        foreach (var r in denied.Values.Where(r => !sent.ContainsKey(r.RequestId) && !sending.ContainsKey(r.RequestId)))
        {
            var keepLeft = RequestHandler.KeepSendKeys - (now - r.Ts);
            if (keepLeft > TimeSpan.Zero)
                restored.Add(new RestoredSend(r.RequestId, r.UserId, r.CampaignId, $"done|{r.Status}|{r.Reason}", keepLeft, [], null, null, null, null));
        }
        foreach (var r in sending.Values.Where(r => !sent.ContainsKey(r.RequestId)))
        {
            // Handed over and never heard of again: whoever held the claim died with it. The claim comes back, so the
            // request waits out its lease and ends ambiguous (or is sent again through a provider that dedupes).
            var age = now - r.Ts;
            if (refused.TryGetValue(r.RequestId, out var outcome))
            {
                restored.Add(new RestoredSend(r.RequestId, r.UserId, r.CampaignId, $"done|{outcome.Status}|{outcome.Reason}", RequestHandler.KeepSendKeys - age, [], null, null, null, null));
                continue;
            }
            var places = (r.Holds ?? []).Select(Hold).OfType<(CounterKind, string, TimeSpan)>()
                .Select(h => (h.Item1, h.Item2, h.Item3 - age)).Where(h => h.Item3 > TimeSpan.Zero).ToList();
            restored.Add(new RestoredSend(r.RequestId, r.UserId, r.CampaignId, $"claimed|lost|{r.Ts.ToUnixTimeMilliseconds()}",
                RequestHandler.KeepSendKeys - age, places, null, null, null, null));
        }
        await counters.RestoreAsync(restored);
        LastPhases += $", restore {phase.Elapsed.TotalSeconds:0.0} s";
        phase.Restart();

        // Consent: the latest change per subject, written in parallel (the consent script keeps the latest anyway).
        var changes = new Dictionary<string, (DateTimeOffset At, bool Out)>();
        void Change(string subject, DateTimeOffset at, bool optedOut)
        {
            if (!changes.TryGetValue(subject, out var c) || c.At <= at) changes[subject] = (at, optedOut);
        }
        foreach (var inbound in TopicReader.ReadToEnd(bootstrap, topics.Inbound, logger, ct))
        {
            if (Keywords.Classify(inbound.Body) is var keyword and (Keyword.Stop or Keyword.Start))
                Change("phone:" + Consent.PhoneOf(inbound), inbound.ReceivedAt, keyword == Keyword.Stop);
        }
        foreach (var profile in TopicReader.ReadToEnd(bootstrap, topics.Profiles, logger, ct))
        {
            if (profile.SmsOptIn is { } optIn)
                Change("user:" + profile.UserId, profile.Ts, !optIn);
        }
        foreach (var chunk in changes.Chunk(500))
            await Task.WhenAll(chunk.Select(c => counters.SetOptOutAsync(c.Key, c.Value.Out, c.Value.At)));
        var consent = changes.Count;
        LastPhases += $", consent {phase.Elapsed.TotalSeconds:0.0} s";
        return (restored.Count, consent);
    }

    private static (CounterKind, string, TimeSpan)? Hold(string hold)
    {
        var parts = hold.Split('|');
        return parts.Length == 3 && long.TryParse(parts[2], CultureInfo.InvariantCulture, out var seconds)
            ? (parts[0] == "u" ? CounterKind.Users : CounterKind.Messages, parts[1], TimeSpan.FromSeconds(seconds))
            : null;
    }
}
