namespace Streams.Analytics.Reports;

/// <summary>The filter of <c>streams why</c>: one request, or one user (in one campaign or all).</summary>
public static class StorySql
{
    public static string Where(string? campaignId, string? userId, string? requestId, Func<string, string> literal)
    {
        var parts = new List<string>();
        if (requestId is not null) parts.Add($"request_id = {literal(requestId)}");
        if (userId is not null) parts.Add($"user_id = {literal(userId)}");
        if (campaignId is not null) parts.Add($"campaign_id = {literal(campaignId)}");
        return parts.Count == 0 ? throw new ArgumentException("why needs a request or a user") : string.Join(" AND ", parts);
    }
}
