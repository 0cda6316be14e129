using System.Text.Json;
using Streams.Core;

namespace Streams.Analytics;

/// <summary>
/// The JSON the pipeline's HTTP side answers with and the CLI reads back from a running pipeline (funnel, known
/// properties, profile updates): snake_case, one set of options for both ends.
/// </summary>
public static class AnalyticsJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        WriteIndented = false,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// A segment query over HTTP: the segment file's JSON and every saved segment's, judged at <see cref="Now"/>;
    /// <see cref="Answer"/> is ids, contacts or count.
    /// </summary>
    public sealed record SegmentQuery(string Segment, IReadOnlyList<string> Saved, DateTimeOffset Now, string Answer);

    /// <summary>A reach estimate over HTTP: the campaign spec's JSON and every saved segment's, at <see cref="Now"/>.</summary>
    public sealed record EstimateQuery(string Spec, IReadOnlyList<string> Saved, DateTimeOffset Now);

    /// <summary>A profile update as JSON, props kept as their JSON text so values keep their types.</summary>
    public sealed record ProfileJson(string UserId, DateTimeOffset Ts, string? Phone, string? Timezone, bool? SmsOptIn, string Props)
    {
        public static ProfileJson From(ProfileUpdate u) => new(u.UserId, u.Ts, u.Phone, u.Timezone, u.SmsOptIn, Funnel.PropsJson(u.Props ?? Core.Props.Empty));
        public ProfileUpdate ToUpdate() => new(UserId, Ts, Phone, Timezone, SmsOptIn, Funnel.PropsFromJson(Props));
    }
}
