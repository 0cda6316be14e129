using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Streams.Core;
using Streams.Counters;
using Streams.Dispatcher.Providers;

namespace Streams.Dispatcher;

/// <summary>
/// Handles a batch of requests, one phase at a time over one record per request: consent and the pure decision;
/// early stops (re-reported as sent when a redelivered request was sent before); then per provider, in the batch's
/// order, turn by turn: wait for the provider's pacing turn (holding nothing), hand over (claim the request id and
/// take its cap and limit slots atomically, or probe the counters for a stop that ranks after them), send, and
/// record. A crash can leave in doubt only the requests handed over at that instant: a request never handed over
/// holds no claim and is sent by the next owner.
/// </summary>
public sealed class RequestHandler(
    ICounterStore counters,
    IProviderRegistry providers,
    ICampaignView campaigns,
    TimeProvider time,
    ILogger logger,
    string owner,
    DispatchSettings? settings = null)
{
    public static readonly TimeSpan KeepSendKeys = TimeSpan.FromDays(7);
    public static readonly TimeSpan DefaultReportTimeout = TimeSpan.FromHours(72);
    public const string ClaimPending = "claim_pending";
    public const int DefaultConcurrency = 64;

    private readonly DispatchSettings _settings = settings ?? new DispatchSettings();

    public RequestHandler(ICounterStore counters, IProviderRegistry providers, ICampaignView campaigns, TimeProvider time, ILogger logger,
        string owner, FrequencyCaps? caps, DndWindow? defaultDnd = null)
        : this(counters, providers, campaigns, time, logger, owner, new DispatchSettings { Caps = caps ?? FrequencyCaps.None, DefaultDnd = defaultDnd })
    {
    }

    /// <summary>Test seam: runs after the provider accepted and the send was recorded, before the result is produced.</summary>
    public Func<SmsRequest, Task>? AfterSend { get; init; }

    /// <summary>
    /// What a batch produced: one result per request that ended or was sent, the requests that wait, the live
    /// campaigns whose reach limit turned out full, and the requests it did not get to (a stop came while they
    /// waited for their turn): those hold nothing and must be handled again.
    /// </summary>
    public sealed record Output(IReadOnlyList<SmsResult> Results, IReadOnlyList<ScheduledRequest> Delayed, IReadOnlyList<CampaignRecord> Completed,
        IReadOnlySet<string>? Unfinished = null)
    {
        /// <summary>Set when the counters became unavailable mid-batch: the unfinished requests wait until they are back.</summary>
        public string? CountersFailed { get; init; }

        public IReadOnlySet<string> NotDone => Unfinished ?? new HashSet<string>();
    }

    /// <summary>One request on its way through the phases.</summary>
    private sealed class Item(SmsRequest request)
    {
        public SmsRequest Request { get; } = request;
        public Send? Send { get; set; }
        public SmsResult? Result { get; set; }
        public bool Emitted { get; set; }
        public ScheduledRequest? Waiting { get; set; }
        public bool Done => Result is not null || Waiting is not null;
        public bool Probe => Send?.After is not null;
        public OutboundSms Outbound => new(Request, Send!.To, Send.From, Send.Text, Send.Info);
    }

    /// <param name="stop">Cancelled when the dispatcher stops taking work: a request still waiting for its turn is left unfinished.</param>
    /// <param name="abandon">Cancelled when even calls in flight must give up (the shutdown deadline).</param>
    /// <param name="emit">
    /// Takes the results of each provider call as soon as they are recorded (the dispatcher produces them to
    /// sms.results at once, so a long batch cut short by a crash has already reported what it sent); those results
    /// are then left out of the output. Without it, every result is in the output.
    /// </param>
    public async Task<Output> HandleBatchAsync(IReadOnlyList<SmsRequest> batch, CancellationToken stop, CancellationToken abandon = default,
        Func<IReadOnlyList<SmsResult>, Task>? emit = null)
    {
        _emit = emit;
        var items = batch.DistinctBy(r => r.RequestId).Select(r => new Item(r)).ToList();
        var completed = new Dictionary<string, CampaignRecord>();
        await DecideAsync(items);
        await SettleEarlyStopsAsync(items);
        await Task.WhenAll(items.Where(i => i.Send is not null && !i.Done).GroupBy(i => i.Send!.Provider)
            .Select(g => SendThroughAsync(g.Key, g.ToList(), completed, stop, abandon)));
        var results = items.Where(i => !i.Emitted).Select(i => i.Result).OfType<SmsResult>().ToList();
        try
        {
            await counters.CountAsync([.. items.Select(i => i.Result).OfType<SmsResult>().Where(r => r.Status != ResultStatus.Sent).Select(r => (r.CampaignId, Counter(r)))]);
        }
        catch (Exception e) when (CountersUnavailable(e))
        {
            // Live counts only: the results themselves still go to Kafka.
        }
        var unfinished = items.Where(i => !i.Done).Select(i => i.Request.RequestId).ToHashSet();
        var paused = _paused;
        _paused = null;
        return new Output(results, [.. items.Select(i => i.Waiting).OfType<ScheduledRequest>()], [.. completed.Values], unfinished) { CountersFailed = paused };
    }

    /// <summary>The live campaign counter a result adds to: its status, or suppressed:reason.</summary>
    public static string Counter(SmsResult r) => r.Status == ResultStatus.Suppressed ? "suppressed:" + r.Reason : r.Status;

    private async Task DecideAsync(List<Item> items)
    {
        var now = time.GetUtcNow();
        var optedOut = await counters.OptedOutAsync(items.Select(i => SendDecision.ConsentSubjects(i.Request)).ToList());
        for (var n = 0; n < items.Count; n++)
        {
            var item = items[n];
            switch (SendDecision.Decide(item.Request, campaigns.Get(item.Request.CampaignId), _settings.Caps, _settings.DefaultDnd, optedOut[n], now))
            {
                case Delay delay:
                    logger.LogDebug("request {RequestId} waits until {Until} ({Cause})", item.Request.RequestId, delay.Until, delay.Cause);
                    item.Waiting = new ScheduledRequest(item.Request, delay.Until, delay.Cause);
                    break;
                case Suppress suppress:
                    item.Result = Suppressed(item.Request, suppress.Reason, suppress.Detail);
                    break;
                case Send send:
                    item.Send = send;
                    break;
            }
        }
    }

    /// <summary>
    /// A request stopped before the hand-over may be a redelivery of one already sent (its campaign completed or was
    /// paused since, or the user opted out): it keeps its one outcome, sent, instead of gaining a second one.
    /// </summary>
    private async Task SettleEarlyStopsAsync(List<Item> items)
    {
        var early = items.Where(i => i.Result is { Status: ResultStatus.Suppressed }).ToList();
        if (early.Count == 0) return;
        var sent = await counters.SentDetailsAsync(early.Select(i => i.Request.RequestId).ToList());
        for (var n = 0; n < early.Count; n++)
        {
            if (sent[n] is { } detail) early[n].Result = SentBefore(early[n].Request, detail);
        }
    }

    private async Task SendThroughAsync(string name, List<Item> items, Dictionary<string, CampaignRecord> completed, CancellationToken stop, CancellationToken abandon)
    {
        if (providers.Get(name) is not { } provider)
        {
            foreach (var item in items)
                item.Result = Result(item.Request, ResultStatus.Failed, $"{Reasons.ProviderError}: no provider named '{name}'", null, name, item.Send!.Info);
            return;
        }
        var pacer = providers.PacerFor(name);
        // Calls overlap, up to the provider's concurrency: one slow call does not hold the turns behind it.
        using var gate = new SemaphoreSlim(Math.Max(1, providers.ConcurrencyFor(name)));
        var inFlight = new List<Task>();
        try
        {
            await TakeTurnsAsync(name, provider, pacer, items, completed, gate, inFlight, stop, abandon);
        }
        finally
        {
            await Task.WhenAll(inFlight);
            await MarkAmbiguousAsync(abandon);
        }
    }

    private async Task TakeTurnsAsync(string name, ISmsProvider provider, Pacer? pacer, List<Item> items, Dictionary<string, CampaignRecord> completed,
        SemaphoreSlim gate, List<Task> inFlight, CancellationToken stop, CancellationToken abandon)
    {
        var position = 0;
        while (position < items.Count)
        {
            var sends = items.Skip(position).Count(i => !i.Probe);
            int turns;
            try
            {
                turns = sends == 0 ? 0
                    : pacer is null ? sends
                    : provider.PrefersBatches ? await pacer.TakeAllAsync(sends, stop) : await pacer.TakeAsync(sends, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return; // what is left holds nothing: it stays unfinished and is handled again by whoever gets it next
            }
            catch (Exception e) when (CountersUnavailable(e))
            {
                Pause(e);
                return;
            }
            // The permits for this turn's calls are taken before the hand-over: a claimed request never waits for one.
            var permits = turns == 0 ? 0 : provider.PrefersBatches ? 1 : turns;
            var acquired = 0;
            try
            {
                for (; acquired < permits; acquired++) await gate.WaitAsync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                if (acquired > 0) gate.Release(acquired);
                return;
            }
            var won = new List<Item>();
            while (position < items.Count && (won.Count < turns || items[position].Probe))
            {
                var look = items.Skip(position).Take(Math.Max(0, turns - won.Count) * 2 + 32).ToList();
                IReadOnlyList<HandOverResult> answers;
                try
                {
                    answers = await counters.HandOverAsync(
                        [.. look.Select(i => new HandOver(i.Request.RequestId, i.Request.UserId, i.Send!.Slots, i.Probe))],
                        owner, turns - won.Count, time.GetUtcNow(), KeepSendKeys);
                }
                catch (Exception e) when (CountersUnavailable(e))
                {
                    // What was done so far in this batch is reported; what was not handed over is left for later.
                    Pause(e);
                    break;
                }
                if (answers.Count == 0) break;
                for (var n = 0; n < answers.Count; n++) Judge(look[n], answers[n], provider, won, completed);
                position += answers.Count;
            }
            var used = won.Count == 0 ? 0 : provider.PrefersBatches ? 1 : won.Count;
            if (permits > used) gate.Release(permits - used);
            if (won.Count > 0)
            {
                var turn = won;
                inFlight.Add(Task.Run(async () =>
                {
                    try
                    {
                        // Kafka hears of the hand-over before the provider does: a counter store that loses its data
                        // while this call is out learns the claims back from sms.results.
                        if (_emit is { } emit)
                            await emit([.. turn.Select(i => Result(i.Request, ResultStatus.Sending, null, null, provider.Name, i.Send!.Info) with { Holds = Holds.Of(i.Send.Slots) })]);
                        await DeliverAsync(name, provider, turn, abandon);
                    }
                    finally { gate.Release(used); }
                }));
            }
            if (_paused is not null) return;
        }
    }

    private volatile string? _paused;

    private static bool CountersUnavailable(Exception e) =>
        e is CountersNotReadyException or StackExchange.Redis.RedisConnectionException or StackExchange.Redis.RedisTimeoutException
        || (e is StackExchange.Redis.RedisServerException && e.Message.StartsWith("LOADING", StringComparison.Ordinal));

    private void Pause(Exception e)
    {
        _paused = e.Message;
        logger.LogWarning("counters unavailable mid-batch ({Error}): what was handed over is finished and reported, the rest waits", e.Message);
    }

    private void Judge(Item item, HandOverResult answer, ISmsProvider provider, List<Item> won, Dictionary<string, CampaignRecord> completed)
    {
        var request = item.Request;
        switch (answer.State)
        {
            case HandOverState.Won:
                won.Add(item);
                break;
            case HandOverState.Passed:
                item.Result = Suppressed(request, item.Send!.After!.Reason, item.Send.After.Detail);
                break;
            case HandOverState.Sent:
                item.Result = SentBefore(request, answer.Detail!);
                break;
            case HandOverState.Outcome:
                var bar = answer.Detail!.IndexOf('|');
                item.Result = Result(request, answer.Detail[..bar], answer.Detail[(bar + 1)..] is { Length: > 0 } why2 ? why2 : null,
                    null, answer.Detail[..bar] == ResultStatus.Failed ? provider.Name : null, answer.Detail[..bar] == ResultStatus.Failed ? item.Send!.Info : null);
                break;
            case HandOverState.Ambiguous:
                item.Result = Result(request, ResultStatus.Ambiguous, answer.Detail is { Length: > 0 } why ? why : Reasons.InterruptedAttempt, null, provider.Name, item.Send!.Info)
                    with { Holds = Holds.Of(item.Send.Slots) };
                break;
            case HandOverState.Denied:
                if (answer.DeniedReason == Reasons.LimitReached
                    && campaigns.Get(request.CampaignId) is { Record.Status: CampaignStatus.Active, Spec.Type: Core.Campaigns.CampaignType.Live } full)
                    completed[full.Record.Id] = full.Record with { Status = CampaignStatus.Completed, UpdatedAt = time.GetUtcNow() };
                item.Result = Suppressed(request, answer.DeniedReason!, "counter full");
                break;
            case HandOverState.ClaimedByOther:
                Foreign(item, answer, provider, won);
                break;
        }
    }

    /// <summary>
    /// Claimed by an attempt that recorded no outcome. A provider that keeps its own index of request ids takes a
    /// request once however often it is sent, so it is simply sent (its slots, held under this request id by the
    /// other attempt, are already this request's). Otherwise the attempt may still be with the provider: the
    /// request waits out the claim's lease and looks again; past the lease the outcome is unknown and the request
    /// ends <c>ambiguous</c>, never sent a second time.
    /// </summary>
    private void Foreign(Item item, HandOverResult answer, ISmsProvider provider, List<Item> won)
    {
        if (provider.CanFind)
        {
            if (item.Probe) item.Result = Suppressed(item.Request, item.Send!.After!.Reason, item.Send.After.Detail);
            else won.Add(item);
            return;
        }
        var until = (answer.ClaimedAt ?? DateTimeOffset.UnixEpoch) + _settings.ClaimLease;
        if (until > time.GetUtcNow())
        {
            logger.LogInformation("request {RequestId} is claimed by {Owner} since {At}; looking again at {Until}", item.Request.RequestId, answer.ClaimedBy, answer.ClaimedAt, until);
            item.Waiting = new ScheduledRequest(item.Request, until, ClaimPending);
            return;
        }
        logger.LogWarning("request {RequestId} was claimed by {Owner} at {At}, which recorded no outcome, and {Provider} cannot be asked; not sending again",
            item.Request.RequestId, answer.ClaimedBy, answer.ClaimedAt, provider.Name);
        Ambiguous(item, provider, Reasons.InterruptedAttempt);
    }

    /// <summary>The provider may or may not have it: the request ends ambiguous, keeps its places, and is marked so for good.</summary>
    private void Ambiguous(Item item, ISmsProvider provider, string reason)
    {
        item.Result = Result(item.Request, ResultStatus.Ambiguous, reason, null, provider.Name, item.Send!.Info) with { Holds = Holds.Of(item.Send.Slots) };
        lock (_ambiguous) _ambiguous.Add((item.Request.RequestId, reason));
    }

    private readonly List<(string RequestId, string Detail)> _ambiguous = [];

    private async Task MarkAmbiguousAsync(CancellationToken abandon)
    {
        List<(string, string)> marks;
        lock (_ambiguous)
        {
            marks = [.. _ambiguous];
            _ambiguous.Clear();
        }
        if (marks.Count > 0) await Persistently(() => counters.RecordAmbiguousAsync(marks, KeepSendKeys), $"mark {marks.Count} requests ambiguous", abandon);
    }

    private async Task DeliverAsync(string name, ISmsProvider provider, List<Item> won, CancellationToken abandon)
    {
        IReadOnlyList<SendOutcome> outcomes;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            outcomes = await provider.SendBatchAsync([.. won.Select(i => i.Outbound)], abandon);
            var took = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
            foreach (var outcome in outcomes)
            {
                Kafka.Telemetry.ProviderCallDuration.Record(took, new KeyValuePair<string, object?>("provider", name),
                    new KeyValuePair<string, object?>("outcome", outcome switch
                    {
                        Accepted => "accepted",
                        Refused { MayHaveBeenTaken: true } => "unclear",
                        _ => "refused",
                    }));
            }
        }
        catch (OperationCanceledException) when (abandon.IsCancellationRequested)
        {
            // The deadline passed mid-call: what the provider did is unknown.
            foreach (var item in won) Ambiguous(item, provider, Reasons.InterruptedAttempt);
            await MarkAmbiguousAsync(CancellationToken.None);
            return;
        }
        var now = time.GetUtcNow();
        var records = new List<SentRecord>();
        var releases = new List<Release>();
        for (var n = 0; n < won.Count; n++)
        {
            var item = won[n];
            var (request, send) = (item.Request, item.Send!);
            switch (outcomes[n])
            {
                case Accepted accepted:
                    var via = accepted.Via ?? provider.Name;
                    var delivers = provider.DeliversAfter;
                    records.Add(new SentRecord(request.RequestId, request.CampaignId,
                        new SentDetail(accepted.MessageId, send.Info, via).ToString(),
                        MessageNote.Key(accepted.ViaKind ?? provider.Kind, accepted.MessageId),
                        new MessageNote(request.RequestId, request.CampaignId, request.UserId, via, send.Info.Segments, send.Info.Encoding).ToString(),
                        now + (delivers ?? providers.ReportTimeoutFor(name)),
                        PendingReport.Info(delivers is null ? PendingReport.Expire : PendingReport.Deliver, accepted.MessageId, request, via, send.Info, Holds.Of(send.Slots)),
                        request.UserId, send.Slots));
                    logger.LogDebug("sent {RequestId} to {To} via {Provider}", request.RequestId, PhoneMask.Mask(send.To), via);
                    item.Result = Result(request, ResultStatus.Sent, null, accepted.MessageId, via, send.Info) with { Holds = Holds.Of(send.Slots) };
                    break;
                case Refused { MayHaveBeenTaken: true } unsure:
                    Ambiguous(item, provider, unsure.Reason);
                    break;
                case Refused refused:
                    // Nothing reached the handset: the places go back so they count for nobody, and the claim keeps the
                    // outcome, so a redelivery reports it again instead of trying a second time.
                    if (refused.Reason is Reasons.OptedOut or Reasons.InvalidPhone)
                    {
                        // The provider knows better (e.g. Twilio 21610: the number sent STOP to it): remember it.
                        if (refused.Reason == Reasons.OptedOut) await counters.SetOptOutAsync("phone:" + send.To, true, now);
                        item.Result = Suppressed(request, refused.Reason, $"{provider.Name} refused the number");
                    }
                    else
                    {
                        item.Result = Result(request, ResultStatus.Failed, refused.Reason, null, provider.Name, send.Info);
                    }
                    releases.Add(new Release(request.RequestId, request.UserId, send.Slots, $"{item.Result.Status}|{item.Result.Reason}"));
                    break;
                default:
                    throw new InvalidOperationException($"unknown send outcome {outcomes[n]}");
            }
        }
        // The sends happened: their records must land, however long Redis takes to come back.
        await Persistently(() => counters.RecordSentAsync(records, KeepSendKeys), $"record {records.Count} sends", abandon);
        await Persistently(() => counters.ReleaseAsync(releases, owner), $"give back {releases.Count} refused requests", abandon);
        await MarkAmbiguousAsync(abandon);
        if (AfterSend is not null)
        {
            foreach (var item in won.Where(i => i.Result?.Status == ResultStatus.Sent)) await AfterSend(item.Request);
        }
        if (_emit is { } emit)
        {
            await emit([.. won.Select(i => i.Result).OfType<SmsResult>()]);
            foreach (var item in won) item.Emitted = true;
        }
    }

    private Func<IReadOnlyList<SmsResult>, Task>? _emit;

    private async Task Persistently(Func<Task> write, string what, CancellationToken abandon)
    {
        var wait = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                await write();
                return;
            }
            catch (Exception e) when (e is StackExchange.Redis.RedisException or TimeoutException && !abandon.IsCancellationRequested)
            {
                logger.LogWarning("Redis unavailable ({Error}); retrying to {What} in {Wait}", e.Message, what, wait);
                try { await Task.Delay(wait, abandon); }
                catch (OperationCanceledException) { }
                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
            catch (Exception e) when (e is StackExchange.Redis.RedisException or TimeoutException)
            {
                logger.LogError("Redis unavailable at the shutdown deadline: could not {What}; the results still go to Kafka", what);
                return;
            }
        }
    }

    private SmsResult SentBefore(SmsRequest request, string detail)
    {
        var previous = SentDetail.Parse(detail);
        logger.LogInformation("request {RequestId} was already sent as {MessageId}; re-reporting it as sent", request.RequestId, previous.MessageId);
        return Result(request, ResultStatus.Sent, null, previous.MessageId, previous.Provider, previous.Info);
    }

    private SmsResult Suppressed(SmsRequest request, string reason, string detail)
    {
        logger.LogDebug("request {RequestId} suppressed: {Reason} ({Detail})", request.RequestId, reason, detail);
        return Result(request, ResultStatus.Suppressed, reason, null, null, null);
    }

    private SmsResult Result(SmsRequest r, string status, string? reason, string? messageId, string? provider, SmsInfo? info) =>
        new(r.RequestId, messageId, r.CampaignId, r.UserId, status, reason, provider, info?.Segments ?? 0, info?.Encoding, time.GetUtcNow());

    /// <summary>What the send key keeps once a message is out: enough to re-emit its result after a crash.</summary>
    private sealed record SentDetail(string MessageId, SmsInfo Info, string? Provider = null)
    {
        public override string ToString() => $"{MessageId}|{Info.Segments.ToString(CultureInfo.InvariantCulture)}|{Info.Encoding}|{Provider}";

        public static SentDetail Parse(string? text)
        {
            var parts = (text ?? "").Split('|');
            return new SentDetail(parts[0], new SmsInfo(parts.Length > 2 ? parts[2] : "", 0,
                parts.Length > 1 && int.TryParse(parts[1], CultureInfo.InvariantCulture, out var s) ? s : 0),
                parts.Length > 3 && parts[3].Length > 0 ? parts[3] : null);
        }
    }
}
