using System.Globalization;
using System.Text;
using Streams.Core;

namespace Streams.Analytics.Reports;

/// <summary>`streams why`: one user's story, request by request, every step in time order.</summary>
public static class WhyText
{
    public static string Render(Story story)
    {
        if (story.Requests.Count == 0 && story.Results.Count == 0 && story.Conversions.Count == 0) return "nothing recorded for this user or request\n";
        var sb = new StringBuilder();
        var ids = story.Requests.Select(r => r.RequestId).Concat(story.Results.Select(r => r.RequestId)).Concat(story.Conversions.Select(c => c.RequestId)).Distinct().ToList();
        foreach (var id in ids)
        {
            var asked = story.Requests.Where(r => r.RequestId == id).ToList();
            var results = story.Results.Where(r => r.RequestId == id).ToList();
            var campaign = asked.FirstOrDefault()?.CampaignId ?? results.FirstOrDefault()?.CampaignId ?? story.Conversions.First(c => c.RequestId == id).CampaignId;
            var user = asked.FirstOrDefault()?.UserId ?? results.FirstOrDefault()?.UserId ?? "";
            sb.Append($"request {id} · campaign {campaign} · user {user}\n");
            var steps = new List<(DateTimeOffset At, int Order, string Text)>();
            foreach (var r in asked)
            {
                if (r.DueAt is { } due) steps.Add((r.Ts, 1, $"waits until {T(due)} ({r.Cause})"));
                else steps.Add((r.Ts, 0, r.Trigger.Length > 0 ? $"requested: triggered by {r.Trigger}{(r.TriggerTs is { } t ? " at " + T(t) : "")}" : "requested (scheduled run)"));
            }
            foreach (var r in results) steps.Add((r.Ts, 2 + Order(r.Status), Describe(r)));
            foreach (var c in story.Conversions.Where(c => c.RequestId == id))
                steps.Add((c.Ts, 10, $"converted: {c.Event}{(c.Value is { } v && v != 0 ? " value " + v.ToString("0.##", CultureInfo.InvariantCulture) : "")}{(c.LastTouch ? " (last touch)" : "")}, {c.Cohort} exposed at {T(c.ExposedAt)}"));
            foreach (var (at, _, text) in steps.OrderBy(s => s.At).ThenBy(s => s.Order)) sb.Append($"  {T(at)}  {text}\n");
        }
        return sb.ToString();
    }

    private static int Order(string status) => status switch { ResultStatus.Sending => 0, ResultStatus.Sent => 1, _ => 2 };

    private static string Describe(SmsResult r) => r.Status switch
    {
        ResultStatus.Suppressed when r.Reason is Reasons.ControlGroup or Reasons.GlobalControl => $"held out ({r.Reason}): an exposure, nothing sent",
        ResultStatus.Suppressed => $"not sent: {r.Reason}",
        ResultStatus.Sent => $"sent via {r.Provider}{(r.MessageId is { } m ? ", message " + m : "")} ({r.Encoding}, {r.Segments} segment{(r.Segments == 1 ? "" : "s")})",
        ResultStatus.Delivered => $"delivered{(r.MessageId is { } m ? " (message " + m + ")" : "")}",
        _ => $"{r.Status}{(r.Reason is { } why ? ": " + why : "")}",
    };

    private static string T(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
