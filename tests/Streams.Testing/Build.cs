using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Dispatcher;

namespace Streams.Tests;

/// <summary>Builders for what tests feed the pipeline: campaigns from YAML, requests, profiles, events.</summary>
public static class Build
{
    public static readonly DateTimeOffset Epoch = DateTimeOffset.UnixEpoch;

    /// <summary>A campaign record from its YAML; a spec that does not parse fails the test with its problems.</summary>
    public static CampaignRecord Campaign(string yaml, CampaignStatus status = CampaignStatus.Active, int version = 1, DateTimeOffset? at = null)
    {
        var parsed = CampaignSpecParser.Parse(yaml);
        if (!parsed.IsValid) throw new InvalidOperationException("test campaign does not parse: " + string.Join("; ", parsed.Problems));
        return new CampaignRecord(parsed.Spec!.Id, version, status, parsed.ToJson(), at ?? Epoch);
    }

    /// <summary>The dispatcher's view of a campaign.</summary>
    public static CampaignEntry Entry(string yaml, CampaignStatus status = CampaignStatus.Active, int version = 1, DateTimeOffset? at = null) =>
        CampaignEntry.From(Campaign(yaml, status, version, at));

    /// <summary>A live campaign "cart" triggered by event <paramref name="trigger"/>, with the given what (and optional extra sections).</summary>
    public static string LiveYaml(string what = "{provider: sandbox, text: Hi}", string trigger = "E", string extra = "") =>
        $"id: cart\nname: Cart\ntype: live\nwho: {{trigger: {{event: {trigger}}}}}\n{(extra.Length > 0 ? extra.TrimEnd('\n') + "\n" : "")}what: {what}";

    public static SmsRequest Request(string id, string campaignId = "cart", string user = "u1", string? phone = "+919876543210", DateTimeOffset? at = null,
        string? timezone = null, bool? optIn = null) =>
        new(id, campaignId, 1, user, at ?? Epoch, new RequestContext("E", at, Props.Empty, phone, timezone, optIn, Props.Empty));

    /// <summary>A partial profile update; props as (name, value) pairs.</summary>
    public static ProfileUpdate Profile(string user, DateTimeOffset ts, string? phone = null, string? timezone = null, bool? optIn = null,
        params (string Name, object? Value)[] props) =>
        new(user, ts, phone, timezone, optIn, props.Length == 0 ? null : props.ToDictionary(p => p.Name, p => p.Value));

    public static UserEvent Event(string user, string name, DateTimeOffset ts, IReadOnlyDictionary<string, object?>? props = null) =>
        new(user, name, ts, props ?? Props.Empty);
}

/// <summary>A directory of its own under the temp directory, deleted with the test.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "streams-tests", Guid.NewGuid().ToString("N"));

    public static implicit operator string(TempDir dir) => dir.Path;

    public override string ToString() => Path;

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Waiting for what the pipeline makes true asynchronously (never a sleep standing in for it).</summary>
public static class Eventually
{
    /// <summary>Observes until <paramref name="done"/>; fails with the last observed state.</summary>
    public static async Task<T> Async<T>(Func<Task<T>> observe, Func<T, bool> done, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(90);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var value = await observe();
            if (done(value)) return value;
            if (waited.Elapsed > limit) throw new TimeoutException($"condition not met within {limit.TotalSeconds}s; last: {Describe(value)}");
            await Task.Delay(100);
        }
    }

    public static Task<T> Async<T>(Func<T> observe, Func<T, bool> done, TimeSpan? timeout = null) =>
        Async(() => Task.FromResult(observe()), done, timeout);

    private static string Describe<T>(T value) => value is System.Collections.IEnumerable e and not string
        ? string.Join(", ", e.Cast<object>())
        : value?.ToString() ?? "null";
}
