using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Streams.Core;
using Streams.Counters;
using Streams.Dispatcher.Phases;
using Streams.Dispatcher.Providers;

namespace Streams.Dispatcher;

/// <summary>
/// Handles a batch of requests as a sequence of phases over one <see cref="BatchItem"/> per request: decide (consent,
/// the pure decision, early stops of redeliveries), then per provider, in the batch's order, turn by turn: wait for
/// the provider's pacing turn (holding nothing), hand over (claim the request id and take its cap and limit slots
/// atomically, or probe the counters for a stop that ranks after them), send, record, report. A crash can leave in
/// doubt only the requests handed over at that instant: a request never handed over holds no claim and is sent by
/// the next owner.
/// </summary>
public sealed class RequestHandler
{
    public static readonly TimeSpan KeepSendKeys = TimeSpan.FromDays(7);
    public static readonly TimeSpan DefaultReportTimeout = TimeSpan.FromHours(72);
    public const string ClaimPending = "claim_pending";
    public const int DefaultConcurrency = 64;

    private readonly ICounterStore _counters;
    private readonly IProviderRegistry _providers;
    private readonly Outcomes _outcomes;
    private readonly DecidePhase _decide;
    private readonly HandOverPhase _handOver;
    private readonly SendPhase _send;
    private readonly Settler _settler;
    private readonly RecordPhase _record;
    private readonly ILogger _logger;

    public RequestHandler(ICounterStore counters, IProviderRegistry providers, ICampaignView campaigns, TimeProvider time, ILogger logger, string owner,
        DispatchSettings? settings = null)
    {
        settings ??= new DispatchSettings();
        _counters = counters;
        _providers = providers;
        _logger = logger;
        _outcomes = new Outcomes(time, logger);
        _decide = new DecidePhase(counters, campaigns, settings, time, _outcomes, logger);
        _handOver = new HandOverPhase(counters, new HandOverJudge(campaigns, settings, time, _outcomes, logger), time, owner);
        _send = new SendPhase(_outcomes);
        _settler = new Settler(_outcomes, time, logger);
        _record = new RecordPhase(counters, time, logger, owner);
    }

    public RequestHandler(ICounterStore counters, IProviderRegistry providers, ICampaignView campaigns, TimeProvider time, ILogger logger,
        string owner, FrequencyCaps? caps, DndWindow? defaultDnd = null)
        : this(counters, providers, campaigns, time, logger, owner, new DispatchSettings { Caps = caps ?? FrequencyCaps.None, DefaultDnd = defaultDnd })
    {
    }

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

    /// <summary>The state of one batch across its providers' turns.</summary>
    private sealed class Run(Func<IReadOnlyList<SmsResult>, Task>? report)
    {
        public Func<IReadOnlyList<SmsResult>, Task>? Report { get; } = report;
        public ConcurrentDictionary<string, CampaignRecord> Completed { get; } = new();
        public volatile string? Paused;
    }

    /// <param name="stop">Cancelled when the dispatcher stops taking work: a request still waiting for its turn is left unfinished.</param>
    /// <param name="abandon">Cancelled when even calls in flight must give up (the shutdown deadline).</param>
    /// <param name="report">
    /// Takes the results of each provider call as soon as they are recorded (the dispatcher produces them to
    /// sms.results at once, so a long batch cut short by a crash has already reported what it sent); those results
    /// are then left out of the output. Without it, every result is in the output.
    /// </param>
    public async Task<Output> HandleBatchAsync(IReadOnlyList<SmsRequest> batch, CancellationToken stop, CancellationToken abandon = default,
        Func<IReadOnlyList<SmsResult>, Task>? report = null)
    {
        var run = new Run(report);
        var items = BatchItem.Of(batch);
        await _decide.RunAsync(items);
        await Task.WhenAll(items.Where(i => i.Send is not null && !i.Done).GroupBy(i => i.Send!.Provider)
            .Select(g => SendThroughAsync(g.Key, g.ToList(), run, stop, abandon)));
        try
        {
            await _counters.CountAsync([.. items.Select(i => i.Result).OfType<SmsResult>().Where(r => r.Status != ResultStatus.Sent).Select(r => (r.CampaignId, Counter(r)))]);
        }
        catch (Exception e) when (CountersUnavailable(e))
        {
            // Live counts only: the results themselves still go to Kafka.
        }
        return new Output([.. items.Where(i => !i.Reported).Select(i => i.Result).OfType<SmsResult>()],
            [.. items.Select(i => i.Waiting).OfType<ScheduledRequest>()], [.. run.Completed.Values],
            items.Where(i => !i.Done).Select(i => i.Request.RequestId).ToHashSet()) { CountersFailed = run.Paused };
    }

    /// <summary>The live campaign counter a result adds to: its status, or suppressed:reason.</summary>
    public static string Counter(SmsResult r) => r.Status == ResultStatus.Suppressed ? "suppressed:" + r.Reason : r.Status;

    private async Task SendThroughAsync(string name, List<BatchItem> items, Run run, CancellationToken stop, CancellationToken abandon)
    {
        if (_providers.Get(name) is not { } provider)
        {
            foreach (var item in items)
                item.Result = _outcomes.Of(item.Request, ResultStatus.Failed, $"{Reasons.ProviderError}: no provider named '{name}'", null, name, item.Send!.Info);
            return;
        }
        // Calls overlap, up to the provider's concurrency: one slow call does not hold the turns behind it.
        var concurrency = Math.Max(1, _providers.ConcurrencyFor(name));
        using var gate = new SemaphoreSlim(concurrency);
        var inFlight = new List<Task>();
        // Calls that end while another's record is being written are recorded together after it: one script for many.
        var recorder = new Coalescer<(Settler.Settlement Settled, IReadOnlyList<BatchItem> Items)>(done => _record.WriteAsync(
            new Settler.Settlement([.. done.SelectMany(d => d.Settled.Sent)], [.. done.SelectMany(d => d.Settled.GivenBack)], [.. done.SelectMany(d => d.Settled.OptedOut)]),
            [.. done.SelectMany(d => d.Items)], abandon));
        try
        {
            await TakeTurnsAsync(name, provider, items, run, gate, concurrency, inFlight, recorder, stop, abandon);
        }
        finally
        {
            await Task.WhenAll(inFlight);
            await _record.MarkAmbiguousAsync(items, abandon);
        }
    }

    private async Task TakeTurnsAsync(string name, ISmsProvider provider, List<BatchItem> items, Run run,
        SemaphoreSlim gate, int concurrency, List<Task> inFlight, Coalescer<(Settler.Settlement, IReadOnlyList<BatchItem>)> recorder,
        CancellationToken stop, CancellationToken abandon)
    {
        var pacer = _providers.PacerFor(name);
        var position = 0;
        while (position < items.Count)
        {
            var sends = items.Skip(position).Count(i => !i.Probe);
            int turns;
            int permits;
            try
            {
                if (provider.PrefersBatches)
                {
                    // One call for the turn: it holds one permit however many messages it carries.
                    turns = sends == 0 ? 0 : pacer is null ? sends : await pacer.TakeAllAsync(sends, stop);
                    permits = turns == 0 ? 0 : 1;
                    if (permits == 1) await gate.WaitAsync(stop);
                }
                else
                {
                    // One call per message, each holding a permit until its own call ends: a turn takes the permits
                    // free now (at least one, waiting for it), so one slow call holds back one place, not the turn.
                    permits = 0;
                    if (sends > 0)
                    {
                        await gate.WaitAsync(stop);
                        permits = 1;
                        while (permits < Math.Min(sends, concurrency) && gate.Wait(0)) permits++;
                    }
                    turns = permits == 0 ? 0 : pacer is null ? permits : await pacer.TakeAsync(permits, stop);
                    if (turns < permits)
                    {
                        gate.Release(permits - turns);
                        permits = turns;
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return; // what is left holds nothing: it stays unfinished and is handled again by whoever gets it next
            }
            catch (Exception e) when (CountersUnavailable(e))
            {
                Pause(run, e);
                return;
            }
            var won = new List<BatchItem>();
            while (position < items.Count && (won.Count < turns || items[position].Probe))
            {
                var look = items.Skip(position).Take(Math.Max(0, turns - won.Count) * 2 + 32).ToList();
                int answered;
                try
                {
                    answered = await _handOver.RunAsync(look, turns - won.Count, provider, won, run.Completed);
                }
                catch (Exception e) when (CountersUnavailable(e))
                {
                    // What was done so far in this batch is reported; what was not handed over is left for later.
                    Pause(run, e);
                    break;
                }
                if (answered == 0) break;
                position += answered;
            }
            var used = won.Count == 0 ? 0 : provider.PrefersBatches ? 1 : won.Count;
            if (permits > used) gate.Release(permits - used);
            if (provider.PrefersBatches && won.Count > 0)
            {
                var turn = won;
                inFlight.Add(Task.Run(async () =>
                {
                    try { await DeliverAsync(name, provider, turn, run, recorder, abandon); }
                    finally { gate.Release(); }
                }));
            }
            else
            {
                // Started here, not queued: each runs until its call is out, then the next is handed its call.
                foreach (var item in won) inFlight.Add(DeliverOneAsync(item));
                async Task DeliverOneAsync(BatchItem item)
                {
                    try { await DeliverAsync(name, provider, [item], run, recorder, abandon); }
                    finally { gate.Release(); }
                }
            }
            if (run.Paused is not null) return;
        }
    }

    /// <summary>Send, record and report one provider call's requests.</summary>
    private async Task DeliverAsync(string name, ISmsProvider provider, List<BatchItem> won, Run run,
        Coalescer<(Settler.Settlement, IReadOnlyList<BatchItem>)> recorder, CancellationToken abandon)
    {
        // Kafka hears of the hand-over before the provider does: a counter store that loses its data while this call
        // is out learns the claims back from sms.results.
        if (run.Report is { } early)
            await early([.. won.Select(i => _outcomes.Of(i.Request, ResultStatus.Sending, null, null, provider.Name, i.Send!.Info) with { Holds = Holds.Of(i.Send.Slots) })]);
        if (await _send.RunAsync(name, provider, won, abandon) is not { } answers)
        {
            await _record.MarkAmbiguousAsync(won, CancellationToken.None);
            return;
        }
        await recorder.WriteAsync((_settler.Settle(provider, won, answers, _providers.ReportTimeoutFor(name)), won));
        if (run.Report is { } report)
        {
            await report([.. won.Select(i => i.Result).OfType<SmsResult>()]);
            foreach (var item in won) item.Reported = true;
        }
    }

    private static bool CountersUnavailable(Exception e) =>
        e is CountersNotReadyException or StackExchange.Redis.RedisConnectionException or StackExchange.Redis.RedisTimeoutException
        || (e is StackExchange.Redis.RedisServerException && e.Message.StartsWith("LOADING", StringComparison.Ordinal));

    private void Pause(Run run, Exception e)
    {
        run.Paused = e.Message;
        _logger.LogWarning("counters unavailable mid-batch ({Error}): what was handed over is finished and reported, the rest waits", e.Message);
    }
}
