using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Mock;
using Streamiz.Kafka.Net.SerDes;
using Streams.Core;
using Streams.Counters;
using Streams.Dispatcher;
using Streams.Dispatcher.Providers;
using Streams.Kafka;
using Streams.Topologies.State;
using Streams.Topologies.LiveTrigger;
using Streams.Topologies.Timers;
using Streams.Topologies;

namespace Streams.Pipeline.Simulation;

/// <summary>One line of `streams simulate`: what became of one request.</summary>
public sealed record SimulatedOutcome(
    string CampaignId, string UserId, string RequestId, string Status, string? Reason, DateTimeOffset At, string? Text, string? To);

/// <summary>A user event, profile update or inbound message, raw as it would arrive on its topic, with its own time.</summary>
public sealed record SimulationInput(string Topic, string Key, byte[] Value, DateTimeOffset Ts);

/// <summary>
/// `streams simulate`: the live and timer topologies in Streamiz's TopologyTestDriver and the dispatcher's
/// RequestHandler (decisions, in-process counters, a sandbox provider that keeps nothing), all on one virtual
/// clock. The clock moves to each input's own time in time order, and in between to each timer's due instant
/// (read from the topologies' stores), so inaction, reminders and DND delays fire exactly when they would live.
/// Requests still waiting when the clock reaches the end are reported as <c>scheduled</c> at their due time.
/// Provider pacing is not simulated (it only spreads sends over seconds).
/// </summary>
public sealed class Simulator
{
    public const string Scheduled = "scheduled";
    private const string ApplicationId = "streams-simulate";

    private readonly StreamsOptions _options;
    private readonly ILogger _logger;

    public Simulator(StreamsOptions options, ILogger? logger = null)
    {
        _options = options;
        _logger = logger ?? NullLogger.Instance;
    }

    public async Task<IReadOnlyList<SimulatedOutcome>> RunAsync(
        IReadOnlyList<CampaignRecord> campaigns, IReadOnlyList<SimulationInput> inputs, DateTimeOffset? from, DateTimeOffset? to, CancellationToken ct)
    {
        var ordered = inputs
            .Select((input, index) => (input, index))
            // Time order; at the same instant profiles first (a profile "as of" an event applies to it), then file order.
            .OrderBy(x => x.input.Ts).ThenBy(x => x.input.Topic == _options.Topics.Profiles ? 0 : 1).ThenBy(x => x.index)
            .Select(x => x.input)
            .ToList();
        var start = Min(from, ordered.FirstOrDefault()?.Ts) ?? campaigns.Select(c => c.UpdatedAt).DefaultIfEmpty(DateTimeOffset.UnixEpoch).Min();
        var end = Max(to, ordered.LastOrDefault()?.Ts) ?? start;

        // A scheduled campaign is as if applied at --from (else when the simulation starts): its runs are the
        // occurrences from then on, each over the history given up to it.
        var applied = from ?? start;
        var scheduled = campaigns.Select(c => Core.Campaigns.CampaignSpecParser.Parse(c.SpecJson).Spec)
            .Where(spec => spec?.Type == Core.Campaigns.CampaignType.Scheduled).ToDictionary(spec => spec!.Id, spec => spec!);
        campaigns = [.. campaigns.Select(c => scheduled.ContainsKey(c.Id) ? c with { UpdatedAt = applied } : c)];
        var occurrences = scheduled.Values
            .SelectMany(spec => new Core.Schedules.Schedule(spec, applied) is var s ? s.Between(s.LookFrom, end) : [])
            .Select(o => o.At).Distinct().Order().ToList();
        var stateDir = Path.Combine(Path.GetTempPath(), "streams-simulate", Guid.NewGuid().ToString("N"));
        try
        {
            var run = new Run(_options, _logger, new FakeTimeProvider(start), stateDir, campaigns, occurrences.Count > 0);
            using (run)
            {
                var next = 0;
                foreach (var input in ordered)
                {
                    ct.ThrowIfCancellationRequested();
                    // Runs due before this input are planned over the history up to them.
                    for (; next < occurrences.Count && occurrences[next] < input.Ts; next++) await run.PlanAtAsync(occurrences[next]);
                    await run.AdvanceToAsync(input.Ts);
                    await run.PipeAsync(input);
                    await run.DrainAsync();
                }
                for (; next < occurrences.Count && occurrences[next] <= end; next++) await run.PlanAtAsync(occurrences[next]);
                await run.AdvanceToAsync(end);
                run.ReportWaiting();
                return run.Outcomes;
            }
        }
        finally
        {
            try { Directory.Delete(stateDir, recursive: true); }
            catch (IOException) { }
        }
    }

    private static DateTimeOffset? Min(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a < b ? a : b;
    private static DateTimeOffset? Max(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a > b ? a : b;

    private sealed class Run : IDisposable
    {
        private static readonly TimeSpan Scan = TimeSpan.FromSeconds(1);
        private readonly Topics _topics;
        private readonly FakeTimeProvider _time;
        private readonly TopologyTestDriver _driver;
        private readonly TestInputTopic<string, byte[]> _events;
        private readonly TestInputTopic<string, byte[]> _profiles;
        private readonly TestInputTopic<string, byte[]> _scheduled;
        private readonly TestOutputTopic<string, byte[]> _requests;
        private readonly TestInputTopic<string, byte[]> _campaignTopic;
        private readonly RequestHandler _handler;
        private readonly RecordingProvider _provider;
        private readonly Dictionary<string, CampaignEntry> _campaigns;
        private readonly EmbeddedRedis _redis = EmbeddedRedis.Start(dataDir: null);
        private readonly RedisCounterStore _counters;

        // Scheduled campaigns: the history piped so far in an embedded analytics store, and a scheduler over it.
        private readonly Analytics.DuckDbStore? _history;
        private readonly List<UserEvent> _newEvents = [];
        private readonly List<ProfileUpdate> _newProfiles = [];
        private readonly Jobs.Scheduling.Scheduler? _scheduler;
        private readonly Jobs.Scheduling.MemoryRunOutput _runOutput = new();

        public List<SimulatedOutcome> Outcomes { get; } = [];

        public Run(StreamsOptions options, ILogger logger, FakeTimeProvider time, string stateDir, IReadOnlyList<CampaignRecord> campaigns, bool scheduled)
        {
            _topics = options.Topics;
            _time = time;
            _counters = _redis.ConnectAsync().GetAwaiter().GetResult();
            _counters.SetEpochAsync("simulate").GetAwaiter().GetResult(); // a new, complete (empty) store
            var builder = new StreamBuilder();
            LiveTriggerTopology.Build(builder, new LiveTriggerOptions { Topics = _topics, Time = time, ScanEvery = Scan, MaxInputBytes = options.MaxInputBytes });
            ScheduledTopology.Build(builder, new ScheduledOptions { Topics = _topics, Time = time, ScanEvery = Scan, MaxInputBytes = options.MaxInputBytes });
            _driver = new TopologyTestDriver(builder.Build(), new StreamConfig<StringSerDes, ByteArraySerDes>
            {
                ApplicationId = ApplicationId,
                StateDir = stateDir,
                Logger = NullLoggerFactory.Instance, // task life-cycle chatter would mix with the JSON lines
            });
            _events = _driver.CreateInputTopic<string, byte[], StringSerDes, ByteArraySerDes>(_topics.Events);
            _profiles = _driver.CreateInputTopic<string, byte[], StringSerDes, ByteArraySerDes>(_topics.Profiles);
            _scheduled = _driver.CreateInputTopic<string, byte[], StringSerDes, ByteArraySerDes>(_topics.Scheduled);
            _requests = _driver.CreateOutputTopic<string, byte[], StringSerDes, ByteArraySerDes>(_topics.Requests);
            _campaignTopic = _driver.CreateInputTopic<string, byte[], StringSerDes, ByteArraySerDes>(_topics.Campaigns);
            foreach (var c in campaigns) _campaignTopic.PipeInput(c.Id, Codecs.CampaignRecord.Encode(c));

            _campaigns = campaigns.ToDictionary(c => c.Id, CampaignEntry.From);
            _provider = new RecordingProvider();
            _handler = new RequestHandler(_counters, new FixedProviders(_provider, anyName: true), new FixedCampaigns(_campaigns), time, logger, "simulate",
                new DispatchSettings { Caps = options.Limits.Caps, DefaultDnd = options.Dnd?.ToWindow(), GlobalControl = options.Control.GlobalPercent });
            if (!scheduled) return;
            _history = Analytics.DuckDbStore.Open(Path.Combine(stateDir, "history.duckdb"));
            _history.MigrateAsync().GetAwaiter().GetResult();
            _scheduler = new Jobs.Scheduling.Scheduler(_history,
                () => [.. _campaigns.Values.Where(c => c.Spec is not null).Select(c => (c.Record, c.Spec!))], () => [],
                new Jobs.Scheduling.MemoryRunLog(), _runOutput, new LoggedAlerts(logger), time, logger);
        }

        /// <summary>Moves the clock to a run's time and plans it over the history piped so far; its requests go to the dispatcher or wait in sms.scheduled.</summary>
        public async Task PlanAtAsync(DateTimeOffset at)
        {
            await AdvanceToAsync(at);
            if (_newEvents.Count > 0) await _history!.InsertEventsAsync([.. _newEvents]);
            if (_newProfiles.Count > 0) await _history!.InsertProfilesAsync([.. _newProfiles]);
            _newEvents.Clear();
            _newProfiles.Clear();
            await _scheduler!.TickAsync(CancellationToken.None);
            foreach (var waiting in _runOutput.Waiting) _scheduled.PipeInput(waiting.Request.UserId, Codecs.ScheduledRequest.Encode(waiting));
            var due = _runOutput.Requests.ToList();
            _runOutput.Clear();
            if (due.Count > 0) await HandleAsync(due);
            await DrainAsync();
        }

        /// <summary>Events and profiles go to the topology; consent (profile sms_opt_in, STOP/START) to the counters, as the consent loop does.</summary>
        public async Task PipeAsync(SimulationInput input)
        {
            if (input.Topic == _topics.Inbound)
            {
                await Consent.ApplyAsync(_counters, Codecs.InboundMessage.DecodeOwn(input.Value));
                return;
            }
            if (input.Topic == _topics.Profiles)
            {
                _profiles.PipeInput(input.Key, input.Value);
                if (_history is not null) _newProfiles.Add(Codecs.ProfileUpdate.DecodeOwn(input.Value));
                await Consent.ApplyAsync(_counters, Codecs.ProfileUpdate.DecodeOwn(input.Value));
                return;
            }
            _events.PipeInput(input.Key, input.Value);
            if (_history is not null) _newEvents.Add(Codecs.UserEvent.DecodeOwn(input.Value));
        }

        /// <summary>Moves the clock to <paramref name="target"/>, stopping at every timer due on the way.</summary>
        public async Task AdvanceToAsync(DateTimeOffset target)
        {
            while (NextDue() is { } due && due <= target)
            {
                if (due > _time.GetUtcNow()) _time.SetUtcNow(due);
                _driver.AdvanceWallClockTime(Scan);
                await DrainAsync();
            }
            if (target > _time.GetUtcNow()) _time.SetUtcNow(target);
            _driver.AdvanceWallClockTime(Scan);
            await DrainAsync();
        }

        /// <summary>Hands every request the topologies produced to the dispatcher, and its delays back to sms.scheduled.</summary>
        public async Task DrainAsync()
        {
            while (true)
            {
                var batch = _requests.ReadKeyValueList().Select(r => Codecs.SmsRequest.DecodeOwn(r.Message.Value)).ToList();
                if (batch.Count == 0) return;
                await HandleAsync(batch);
            }
        }

        private async Task HandleAsync(List<SmsRequest> batch)
        {
            var output = await _handler.HandleBatchAsync(batch, CancellationToken.None);
            foreach (var r in output.Results)
            {
                var sms = _provider.Sent.GetValueOrDefault(r.RequestId);
                Outcomes.Add(new SimulatedOutcome(r.CampaignId, r.UserId, r.RequestId, r.Status, r.Reason, r.Ts,
                    r.Status == ResultStatus.Sent ? sms?.Text : null, r.Status == ResultStatus.Sent ? sms?.To : null));
            }
            foreach (var record in output.Completed)
            {
                _campaigns[record.Id] = CampaignEntry.From(record);
                _campaignTopic.PipeInput(record.Id, Codecs.CampaignRecord.Encode(record));
            }
            foreach (var waiting in output.Delayed)
                _scheduled.PipeInput(waiting.Request.UserId, Codecs.ScheduledRequest.Encode(waiting));
        }

        private DateTimeOffset? NextDue()
        {
            DateTimeOffset? first = null;
            foreach (var (key, _) in Waiting())
            {
                if (first is null || key < first) first = key;
                break;
            }
            foreach (var (due, _, _) in WaitingInTimers())
            {
                if (first is null || due < first) first = due;
                break;
            }
            return first;
        }

        private IEnumerable<(DateTimeOffset Due, SmsRequest Request)> Waiting() =>
            UserState.Waiting(_driver.GetKeyValueStore<string, byte[]>(UserState.StoreName));

        private IEnumerable<(DateTimeOffset Due, SmsRequest Request, string Cause)> WaitingInTimers() =>
            DueTimers.Waiting(_driver.GetKeyValueStore<string, byte[]>(StoreNames.Timers))
                .Select(t => Codecs.ScheduledRequest.DecodeOwn(t.Value))
                .Select(s => (s.DueAt, s.Request, s.Cause));

        /// <summary>Requests whose timer is past the end of the simulated time: one "scheduled" line each, at its due time.</summary>
        public void ReportWaiting()
        {
            var waiting = Waiting().Select(w => (w.Due, w.Request, Cause: _campaigns.TryGetValue(w.Request.CampaignId, out var c) && c.Spec?.Who.Trigger?.Date is not null ? "reminder" : "inaction"))
                .Concat(WaitingInTimers())
                .OrderBy(w => w.Due).ThenBy(w => w.Request.RequestId, StringComparer.Ordinal);
            foreach (var (due, request, cause) in waiting)
                Outcomes.Add(new SimulatedOutcome(request.CampaignId, request.UserId, request.RequestId, Scheduled, cause, due, null, null));
        }

        public void Dispose()
        {
            _history?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            _driver.Dispose();
            _counters.DisposeAsync().AsTask().GetAwaiter().GetResult();
            _redis.Dispose();
        }
    }

    /// <summary>A simulated safety hold is a warning on stderr: nothing goes anywhere.</summary>
    private sealed class LoggedAlerts(ILogger logger) : Jobs.Scheduling.IAlerts
    {
        public Task RaiseAsync(Core.Schedules.Alert alert, IReadOnlyDictionary<string, object?> details, CancellationToken ct)
        {
            logger.LogWarning("run {Run} held: {Message}", alert.RunId, alert.Message);
            return Task.CompletedTask;
        }
    }

    /// <summary>The sandbox's answer (accepted, id "sbx-" + request id) without an outbox file or delivery reports.</summary>
    private sealed class RecordingProvider : ISmsProvider
    {
        public Dictionary<string, OutboundSms> Sent { get; } = [];
        public string Name => SandboxProvider.TypeName;

        public Task<SendOutcome> SendAsync(OutboundSms sms, CancellationToken ct)
        {
            Sent[sms.Request.RequestId] = sms;
            return Task.FromResult<SendOutcome>(new Accepted("sbx-" + sms.Request.RequestId));
        }

        public Task<string?> FindAsync(string requestId, CancellationToken ct) =>
            Task.FromResult(Sent.ContainsKey(requestId) ? "sbx-" + requestId : null);

    }
}
